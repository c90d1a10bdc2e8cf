import { z } from 'zod';
import { TimeZoneSchema } from '@crowdlens/config';

const DAY = 86_400_000;

/** Max span per bucket size: keeps one response to a few thousand rows per camera. */
export const MAX_RANGE_MS = { minute: 7 * DAY, hour: 400 * DAY, day: 5 * 366 * DAY } as const;

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

const idList = z
  .string()
  .trim()
  .min(1)
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/** Parameters every stats endpoint shares. */
const rangeShape = {
  camera: idList.optional().describe('camera id, or several separated by commas; default all'),
  group: idList.optional().describe('store/zone (camera group), or several separated by commas'),
  from: timestamp.optional().describe('ISO-8601 or epoch ms; default: to − 24 h'),
  to: timestamp.optional().describe('ISO-8601 or epoch ms; default: now'),
};

export interface RangeQuery {
  readonly cameraIds: readonly string[];
  readonly groups: readonly string[];
  readonly from: number;
  readonly to: number;
}

function resolveRange(
  q: { camera?: string[]; group?: string[]; from?: number; to?: number },
  ctx: z.RefinementCtx,
): RangeQuery {
  const to = q.to ?? Date.now() + 60_000;
  const from = q.from ?? to - DAY;
  if (from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to' });
  return { cameraIds: q.camera ?? [], groups: q.group ?? [], from, to };
}

const bucket = z.enum(['minute', 'hour', 'day']).default('minute');
type Bucket = z.output<typeof bucket>;

function checkSpan(range: RangeQuery, size: Bucket, ctx: z.RefinementCtx): void {
  if (range.to - range.from > MAX_RANGE_MS[size]) {
    ctx.addIssue({
      code: 'custom',
      path: ['bucket'],
      message: `a ${size} query may span at most ${MAX_RANGE_MS[size] / DAY} days; use a larger bucket`,
    });
  }
}

/** GET /api/stats and /api/stats/csv */
export const StatsQuerySchema = z
  .object({ ...rangeShape, bucket: bucket.describe('bucket size') })
  .strict()
  .transform((q, ctx) => {
    const range = resolveRange(q, ctx);
    checkSpan(range, q.bucket, ctx);
    return { ...range, bucket: q.bucket };
  });
export type StatsQueryDto = z.output<typeof StatsQuerySchema>;

/** GET /api/stats/groups and /api/stats/groups/csv: every store side by side, so no camera filter. */
export const GroupsQuerySchema = z
  .object({
    group: rangeShape.group.describe('only these stores/zones (camera groups), separated by commas; default all'),
    from: rangeShape.from,
    to: rangeShape.to,
    bucket: bucket.describe(
      'bucket size k-anonymity is applied at, as in /api/stats: the same bucket gives the same totals',
    ),
  })
  .strict()
  .transform((q, ctx) => {
    const range = resolveRange(q, ctx);
    checkSpan(range, q.bucket, ctx);
    return { ...range, bucket: q.bucket };
  });
export type GroupsQueryDto = z.output<typeof GroupsQuerySchema>;

/** GET /api/stats/peak-hours */
export const PeakHoursQuerySchema = z
  .object({
    ...rangeShape,
    tz: TimeZoneSchema.optional().describe(
      "IANA time zone, e.g. Europe/Paris; default each camera's own (groups.<group>.timeZone, else analytics.timeZone)",
    ),
  })
  .strict()
  .transform((q, ctx) => {
    const range = resolveRange(q, ctx);
    if (range.to - range.from > MAX_RANGE_MS.hour)
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'range too long' });
    return { ...range, tz: q.tz };
  });
export type PeakHoursQueryDto = z.output<typeof PeakHoursQuerySchema>;

/** GET /api/stats/dwell */
export const DwellQuerySchema = z
  .object(rangeShape)
  .strict()
  .transform((q, ctx) => resolveRange(q, ctx));
export type DwellQueryDto = z.output<typeof DwellQuerySchema>;

/** GET /api/occupancy: people in each zone now. */
export const OccupancyQuerySchema = z
  .object({ camera: rangeShape.camera, group: rangeShape.group })
  .strict()
  .transform((q) => ({ cameraIds: q.camera ?? [], groups: q.group ?? [] }));
export type OccupancyQueryDto = z.output<typeof OccupancyQuerySchema>;
