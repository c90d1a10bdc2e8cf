import { z } from 'zod';

const DAY = 86_400_000;

/** Max span per bucket size: keeps one response to a few thousand rows per camera. */
export const MAX_RANGE_MS = { minute: 7 * DAY, hour: 366 * DAY, day: 5 * 366 * DAY } as const;

const timestamp = z
  .string()
  .trim()
  .min(1)
  .transform((value, ctx) => {
    const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not an ISO-8601 date or epoch milliseconds` });
      return z.NEVER;
    }
    return ms;
  });

/** GET /api/stats query string. */
export const StatsQuerySchema = z
  .object({
    camera: z
      .string()
      .trim()
      .min(1)
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .optional()
      .describe('camera id, or several separated by commas; default all'),
    from: timestamp.optional().describe('ISO-8601 or epoch ms; default to - 24h'),
    to: timestamp.optional().describe('ISO-8601 or epoch ms; default now'),
    bucket: z.enum(['minute', 'hour', 'day']).default('minute'),
  })
  .strict()
  .transform((q, ctx) => {
    const to = q.to ?? Date.now() + 60_000;
    const from = q.from ?? to - DAY;
    if (from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to' });
    if (to - from > MAX_RANGE_MS[q.bucket]) {
      ctx.addIssue({
        code: 'custom',
        path: ['bucket'],
        message: `a ${q.bucket} query may span at most ${MAX_RANGE_MS[q.bucket] / DAY} days; use a larger bucket`,
      });
    }
    return { cameraIds: q.camera ?? [], from, to, bucket: q.bucket };
  });

export type StatsQueryDto = z.output<typeof StatsQuerySchema>;
