import { z } from 'zod';

/**
 * Alert rules and the webhooks they are delivered to (docs/alerts.md). Rules
 * are evaluated by analytics, which sees every camera's status and every
 * zone's occupancy in both the embedded and the distributed mode.
 */

const RuleNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, ".", "_" and "-" only')
  .describe('unique among the rules; what the webhook payload and GET /api/alerts call it');

const camerasField = z
  .array(z.string().min(1))
  .max(1024)
  .optional()
  .describe('camera ids the rule watches; default every camera');

const forSeconds = (dflt: number) =>
  z
    .number()
    .min(0)
    .max(7 * 24 * 3600)
    .default(dflt)
    .describe('the condition must hold this long before the alert fires');

export const CameraDownRuleSchema = z
  .object({
    type: z.literal('camera-down'),
    name: RuleNameSchema,
    cameras: camerasField,
    forSeconds: forSeconds(120),
  })
  .strict()
  .describe(
    'the camera is not streaming: connecting, reconnecting (backoff) or given up (failed), or its ingest ' +
      'has stopped reporting a streaming camera (alerts.statusStaleSeconds); a removed camera or an ended file (stopped) is not down',
  );

export const CameraStalledRuleSchema = z
  .object({
    type: z.literal('camera-stalled'),
    name: RuleNameSchema,
    cameras: camerasField,
    forSeconds: forSeconds(0),
  })
  .strict()
  .describe(
    'the camera lost its stream (stalled, dropped, refused) and is reconnecting or has given up: backoff or failed',
  );

export const ZoneOccupancyRuleSchema = z
  .object({
    type: z.literal('zone-occupancy'),
    name: RuleNameSchema,
    cameras: camerasField,
    zone: z.string().min(1).optional().describe('zone name; default every zone of the watched cameras'),
    above: z
      .number()
      .int()
      .min(0)
      .describe('fires while more than this many people are inside (at least analytics.kAnonymity − 1)'),
    forSeconds: forSeconds(0),
  })
  .strict();

export const DetectorLatencyRuleSchema = z
  .object({
    type: z.literal('detector-latency'),
    name: RuleNameSchema,
    cameras: camerasField,
    aboveMs: z.number().positive().describe("fires while the camera's mean detection latency is above this, ms"),
    forSeconds: forSeconds(60),
  })
  .strict();

export const AlertRuleSchema = z.discriminatedUnion('type', [
  CameraDownRuleSchema,
  CameraStalledRuleSchema,
  ZoneOccupancyRuleSchema,
  DetectorLatencyRuleSchema,
]);
export type AlertRule = z.infer<typeof AlertRuleSchema>;
export type AlertRuleType = AlertRule['type'];

const SecretSchema = z.string().min(16, 'at least 16 characters');

export const WebhookConfigSchema = z
  .object({
    name: RuleNameSchema.describe('unique among the webhooks; names its secret in alerts.webhookSecrets'),
    url: z.url({ protocol: /^https?$/ }).describe('where alerts are POSTed as JSON; redacted in logs'),
    secret: SecretSchema.optional().describe(
      'HMAC-SHA256 key of the X-CrowdLens-Signature header; better in the secrets file (alerts.webhookSecrets); never logged or sent',
    ),
    timeoutMs: z.number().int().min(100).max(120_000).default(5000).describe('one attempt gives up after this long'),
    maxAttempts: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(10)
      .describe('attempts per message, retried with the backoff below (default about 9 minutes in all)'),
    backoff: z
      .object({
        initialMs: z.number().int().min(10).default(1000),
        maxMs: z.number().int().min(10).default(120_000),
      })
      .strict()
      .refine((b) => b.maxMs >= b.initialMs, { message: 'maxMs must be at least initialMs', path: ['maxMs'] })
      .default({ initialMs: 1000, maxMs: 120_000 })
      .describe('delay between attempts: doubles from initialMs up to maxMs, with jitter'),
  })
  .strict();

export const AlertsConfigSchema = z
  .object({
    rules: z.array(AlertRuleSchema).max(256).default([]),
    webhooks: z.array(WebhookConfigSchema).max(16).default([]).describe('every alert goes to every webhook'),
    webhookSecrets: z
      .record(z.string(), SecretSchema)
      .default({})
      .describe('webhook name -> secret; for the secrets file (CROWDLENS_SECRETS_FILE), so the main config holds none'),
    evaluateIntervalMs: z
      .number()
      .int()
      .min(100)
      .max(60_000)
      .default(1000)
      .describe('how often the rules are evaluated'),
    statusStaleSeconds: z
      .number()
      .min(1)
      .default(30)
      .describe('a streaming camera whose status is not heard for this long counts as down (its ingest is gone)'),
    maxPendingDeliveries: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1000)
      .describe('webhook messages waiting per webhook; past this the oldest is dropped, with a log line'),
  })
  .strict()
  .superRefine((a, ctx) => {
    const unique = (items: readonly { name: string }[], key: 'rules' | 'webhooks') => {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        if (seen.has(item.name))
          ctx.addIssue({ code: 'custom', path: [key, i, 'name'], message: `duplicate name "${item.name}"` });
        seen.add(item.name);
      });
    };
    unique(a.rules, 'rules');
    unique(a.webhooks, 'webhooks');
    const names = new Set(a.webhooks.map((w) => w.name));
    for (const name of Object.keys(a.webhookSecrets))
      if (!names.has(name))
        ctx.addIssue({ code: 'custom', path: ['webhookSecrets', name], message: `no webhook is named "${name}"` });
    a.webhooks.forEach((w, i) => {
      if (w.secret === undefined && a.webhookSecrets[w.name] === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['webhooks', i, 'secret'],
          message: `webhook "${w.name}" has no secret: set secret, or alerts.webhookSecrets.${w.name} in the secrets file`,
        });
      if (w.secret !== undefined && a.webhookSecrets[w.name] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['webhooks', i, 'secret'],
          message: `webhook "${w.name}" has a secret in both secret and webhookSecrets: keep one`,
        });
    });
  })
  // Each webhook carries its own secret from here on, wherever it was written.
  .transform(({ webhookSecrets, ...a }) => ({
    ...a,
    webhooks: a.webhooks.map((w) => ({ ...w, secret: (w.secret ?? webhookSecrets[w.name]) as string })),
  }));
export type AlertsConfig = z.output<typeof AlertsConfigSchema>;
export type WebhookConfig = AlertsConfig['webhooks'][number];
