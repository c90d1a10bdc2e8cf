import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { CameraIdSchema } from '@crowdlens/contracts';
import { checkMediaDir, CameraSourceError, parseCameraSource } from './camera-source';
import { CameraGroupConfigSchema, TimeZoneSchema } from './time-zone';
import { checkUniqueNames, CountingLineSchema, CountingZoneSchema } from './geometry.schema';
import { LiveViewConfigSchema } from './live-view.schema';
import { AlertsConfigSchema } from './alerts.schema';

// One rule for camera ids, in config and in every message that names a camera.
export { CameraIdSchema };

/** A face detector's network input, longer side: the detectors' grids need multiples of 32. */
const FaceInputSizeSchema = z.number().int().multipleOf(32).min(128).max(1024);

export const CameraConfigSchema = z
  .object({
    id: CameraIdSchema.describe('stable id; the bus key and the store key'),
    name: z.string().min(1).optional().describe('display name; defaults to the id'),
    url: z
      .string()
      .min(1)
      .superRefine((url, ctx) => {
        try {
          parseCameraSource(url);
        } catch (err) {
          if (!(err instanceof CameraSourceError)) throw err;
          ctx.addIssue({ code: 'custom', message: err.message });
        }
      })
      .describe(
        'rtsp://, rtsps://, http(s):// or a file path (relative to the working directory; inside ingest.mediaDir when set); any other scheme is refused; credentials are redacted everywhere',
      ),
    fps: z.number().positive().max(30).default(5).describe('analysis frames per second sampled from the stream'),
    width: z
      .number()
      .int()
      .min(160)
      .max(3840)
      .default(640)
      .describe('frames are scaled to this width before detection'),
    detectorInputSize: FaceInputSizeSchema.optional().describe(
      "this camera's face detector input, longer side (px), instead of detector.inputSize: smaller where faces are large (cheaper), larger where they are tiny; RetinaFace and Tiny only (SSD always runs at 512x512)",
    ),
    detectorMinScore: z
      .number()
      .min(0.05)
      .max(0.99)
      .optional()
      .describe(
        "this camera's face detector threshold, instead of detector.minScore: higher where false faces show (posters, glare), lower where faces are small and soft",
      ),
    group: z.string().min(1).optional().describe('store or zone the camera belongs to'),
    loop: z.boolean().default(false).describe('replay a file source forever (demo)'),
    realtime: z.boolean().default(true).describe('read file sources at their native speed, like a live camera'),
    hwaccel: z.string().min(1).optional().describe('ffmpeg -hwaccel value, e.g. cuda or vaapi'),
    decodeThreads: z
      .number()
      .int()
      .min(1)
      .max(16)
      .optional()
      .describe(
        "ffmpeg decoder threads for this stream (default: ffmpeg's choice); 1 saves 11-18 % of decoding CPU when many cameras share the cores, a 4K stream needs more",
      ),
    lines: z.array(CountingLineSchema).max(32).default([]).describe('counting lines (docs/lines-and-zones.md)'),
    zones: z.array(CountingZoneSchema).max(32).default([]).describe('zones: entries, occupancy, dwell'),
  })
  .strict()
  .superRefine((cam, ctx) => checkUniqueNames(cam, ctx));
export type CameraConfig = z.infer<typeof CameraConfigSchema>;

export const InMemoryBusConfigSchema = z
  .object({
    type: z.literal('memory'),
    queueCapacity: z
      .number()
      .int()
      .min(1)
      .default(512)
      .describe('per topic and consumer group; overflow is dropped and counted'),
  })
  .strict();

export const KafkaTlsConfigSchema = z
  .object({
    ca: z
      .string()
      .min(1)
      .optional()
      .describe("PEM file of the CA that signed the brokers' certificates; default: system CAs"),
    cert: z.string().min(1).optional().describe('client certificate PEM file, for brokers that require mutual TLS'),
    key: z
      .string()
      .min(1)
      .optional()
      .describe('client private key PEM file (unencrypted); its contents are never logged'),
    rejectUnauthorized: z
      .boolean()
      .default(true)
      .describe("verify the brokers' certificates; false only to diagnose, never in production"),
  })
  .strict()
  .refine((t) => (t.cert === undefined) === (t.key === undefined), {
    message: 'cert and key go together (mutual TLS needs both)',
    path: ['key'],
  });

export const KafkaSaslConfigSchema = z
  .object({
    mechanism: z
      .enum(['plain', 'scram-sha-256', 'scram-sha-512'])
      .describe("one the brokers' listener enables; plain only over TLS in production"),
    username: z.string().min(1).describe('may come from CROWDLENS_KAFKA_SASL_USERNAME'),
    password: z
      .string()
      .min(1)
      .describe('redacted everywhere; may come from CROWDLENS_KAFKA_SASL_PASSWORD instead of the file'),
  })
  .strict();

export const KafkaBusConfigSchema = z
  .object({
    type: z.literal('kafka'),
    brokers: z.array(z.string().min(1)).min(1).describe('host:port list'),
    clientId: z.string().min(1).default('crowdlens'),
    partitions: z.number().int().min(1).default(6).describe('partitions for topics this service provisions'),
    newGroupsStartFrom: z
      .enum(['earliest', 'latest'])
      .default('earliest')
      .describe(
        'where a consumer group with no committed offsets starts: earliest = the oldest retained message, ' +
          'so nothing published before a consumer first ran is lost to start order (consumers are idempotent); ' +
          'latest = only what is published after it joins',
      ),
    cropRetentionMs: z
      .number()
      .int()
      .min(1000)
      .default(10 * 60_000)
      .describe('face crops are faces: keep minutes, not days'),
    retentionMs: z
      .number()
      .int()
      .min(1000)
      .default(7 * 24 * 3600_000),
    sessionTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .optional()
      .describe('consumer session timeout: how long failover after a crash takes (default 10 s)'),
    heartbeatIntervalMs: z.number().int().min(100).optional(),
    commitIntervalMs: z
      .number()
      .int()
      .min(100)
      .optional()
      .describe('longest gap between offset commits inside a long batch'),
    ssl: z
      .union([z.boolean(), KafkaTlsConfigSchema], {
        error: 'expected true (TLS with the system CAs) or an object with ca, cert, key, rejectUnauthorized',
      })
      .optional()
      .describe('TLS to the brokers: true = system CAs; PEM files are read when the bus starts'),
    sasl: KafkaSaslConfigSchema.optional().describe('SASL login to the brokers'),
  })
  .strict();

export const BusConfigSchema = z.discriminatedUnion('type', [InMemoryBusConfigSchema, KafkaBusConfigSchema]);
export type BusConfig = z.infer<typeof BusConfigSchema>;

export const StoreConfigSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('sqlite'),
      path: z.string().min(1).optional().describe('database file; default <dataDir>/crowdlens.db'),
    })
    .strict(),
  z
    .object({ type: z.literal('postgres'), url: z.string().min(1).describe('postgres://user:pass@host:port/db') })
    .strict(),
]);
/** After loading: the SQLite path is always resolved (see parseConfig). */
export type StoreConfig =
  { readonly type: 'sqlite'; readonly path: string } | Extract<z.infer<typeof StoreConfigSchema>, { type: 'postgres' }>;

export const ModelConfigSchema = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('faceapi-age-gender') })
    .strict()
    .describe('bundled default: face-api age/gender head'),
  z
    .object({
      type: z.literal('onnx'),
      path: z.string().min(1).describe('ResNet50 .onnx file'),
      manifest: z.string().min(1).optional().describe('manifest JSON; defaults to <path>.manifest.json'),
      executionProvider: z.enum(['cpu', 'cuda', 'tensorrt']).default('cpu'),
      intraOpThreads: z.number().int().min(0).default(0).describe('0 = all cores'),
    })
    .strict(),
]);
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

export const BatcherConfigSchema = z
  .object({
    maxBatch: z.number().int().min(1).max(512).default(16),
    maxWaitMs: z.number().int().min(0).max(10_000).default(40).describe('a partial batch runs after this long'),
    queueCapacity: z.number().int().min(1).default(256).describe('pending crops before submitters wait'),
    maxInFlight: z.number().int().min(1).max(16).default(1).describe('batches run concurrently'),
  })
  .strict();
export type BatcherConfig = z.infer<typeof BatcherConfigSchema>;

/**
 * Per-model defaults: RetinaFace needs the full 640 px frame to keep faces of
 * 12-32 px and scores its false positives higher than SSD (bench/RESULTS.md).
 */
const DETECTOR_DEFAULTS = {
  tiny: { inputSize: 416, minScore: 0.5 },
  ssd: { inputSize: 416, minScore: 0.5 },
  retinaface: { inputSize: 640, minScore: 0.6 },
} as const;

export const DetectorConfigSchema = z
  .object({
    type: z
      .enum(['tiny', 'ssd', 'retinaface'])
      .default('ssd')
      .describe(
        'SSD MobileNet v1 (face-api; fast on onnxruntime), RetinaFace MobileNet-0.25 (onnxruntime; a sixth of ' +
          "SSD's CPU, finds faces down to ~12 px: bench/RESULTS.md) or Tiny Face Detector",
      ),
    engine: z
      .enum(['auto', 'onnx', 'tfjs'])
      .default('auto')
      .describe(
        'auto = onnxruntime for SSD and RetinaFace, TF.js for Tiny (onnxruntime cannot run Tiny, TF.js cannot run RetinaFace)',
      ),
    executionProvider: z
      .enum(['cpu', 'cuda', 'tensorrt'])
      .default('cpu')
      .describe('onnx engine: where the SSD runs; a GPU provider that cannot start falls back to CPU with a warning'),
    inputSize: FaceInputSizeSchema.optional().describe(
      'Tiny and RetinaFace: network input, longer side (px; default 416 for Tiny, 640 for RetinaFace); SSD always runs at 512x512',
    ),
    minScore: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('faces below this confidence are ignored (default 0.5; RetinaFace 0.6, measured: bench/RESULTS.md)'),
    minFaceSize: z.number().int().min(8).default(32).describe('faces smaller than this (px, scaled frame) are ignored'),
    workers: z
      .number()
      .int()
      .min(0)
      .max(32)
      // Each worker holds its own onnxruntime session, about 200 MB resident: past 8, more cameras want more processes.
      .default(() => Math.min(8, availableParallelism()))
      .describe('detection worker threads (default: one per core, at most 8); 0 = main thread'),
    jobTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(10_000)
      .describe(
        'a frame a detector worker has not answered within this long fails, and the worker is restarted ' +
          '(10 s, like Frigate: ~35x the slowest detection measured, SSD at 290 ms); its camera shows the error',
      ),
  })
  .strict()
  .refine((d) => !(d.type === 'tiny' && d.engine === 'onnx'), {
    message: "engine 'onnx' cannot run Tiny; use type 'ssd' or 'retinaface', or engine 'tfjs' (or 'auto') for 'tiny'",
    path: ['engine'],
  })
  .refine((d) => !(d.type === 'retinaface' && d.engine === 'tfjs'), {
    message: "engine 'tfjs' cannot run RetinaFace; use engine 'onnx' (or 'auto')",
    path: ['engine'],
  })
  .transform((d) => ({
    ...d,
    inputSize: d.inputSize ?? DETECTOR_DEFAULTS[d.type].inputSize,
    minScore: d.minScore ?? DETECTOR_DEFAULTS[d.type].minScore,
  }));
export type DetectorConfig = z.infer<typeof DetectorConfigSchema>;
export type DetectorConfigInput = z.input<typeof DetectorConfigSchema>;

export const TrackerConfigSchema = z
  .object({
    iouThreshold: z.number().min(0).max(1).default(0.3),
    maxAgeMs: z.number().int().min(0).default(1500).describe('a track unseen this long is closed'),
    cropsPerTrack: z.number().int().min(1).max(50).default(3).describe('best crops sent per track'),
    minHits: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(2)
      .describe('consecutive detections before a track is confirmed (filters false faces)'),
  })
  .strict();
export type TrackerConfig = z.infer<typeof TrackerConfigSchema>;
export type TrackerConfigInput = z.input<typeof TrackerConfigSchema>;

export const PersonDetectorConfigSchema = z
  .object({
    inputSize: z
      .number()
      .int()
      .multipleOf(32)
      .min(192)
      .max(1024)
      .default(416)
      .describe('person detector input, longer side (px, multiple of 32); larger finds smaller people and costs more'),
    minScore: z
      .number()
      .min(0)
      .max(1)
      .default(0.55)
      .describe('person detections below this confidence are ignored (0.55: best count on vtest.avi, bench/counting)'),
    modelPath: z
      .string()
      .min(1)
      .optional()
      .describe('ONNX person detector; default: the bundled NanoDet-g (assets/models/nanodet-g)'),
  })
  .strict();
export type PersonDetectorConfig = z.infer<typeof PersonDetectorConfigSchema>;

export const CountingConfigSchema = z
  .object({
    unit: z
      .enum(['people', 'faces'])
      .default('people')
      .describe(
        'what a visitor is: a tracked person (body detector + faces attached to bodies; counts people whose faces are too small to see) or a tracked face',
      ),
    minGenderFacePx: z
      .number()
      .int()
      .min(8)
      .default(32)
      .describe('faces smaller than this (px, analysed frame) are not classified: their person stays "unknown"'),
    heartbeatMs: z
      .number()
      .int()
      .min(1000)
      .default(30_000)
      .describe('a live track reports how long it has been in view this often (dwell survives an ingest crash)'),
    minVisitorMs: z
      .number()
      .int()
      .min(0)
      .default(1000)
      .describe(
        'a track becomes a visitor once in view this long: detector flicker and brief fragments are not people',
      ),
    personDetector: PersonDetectorConfigSchema.default(PersonDetectorConfigSchema.parse({})),
    personTracker: z
      .object({
        maxAgeMs: z
          .number()
          .int()
          .min(0)
          .default(3000)
          .describe(
            'a person unseen this long has left (people are hidden by others and signs longer than faces blink)',
          ),
        reassociateDistance: z
          .number()
          .min(0)
          .max(5)
          .default(1.5)
          .describe('a lost person may be picked up again this far from where they were predicted, in body widths'),
      })
      .strict()
      .default({ maxAgeMs: 3000, reassociateDistance: 1.5 })
      .describe('tracker settings for people; tracker.* applies to faces'),
  })
  .strict();
export type CountingConfig = z.infer<typeof CountingConfigSchema>;
export type CountingConfigInput = z.input<typeof CountingConfigSchema>;

export const MotionConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('skip detection on frames where nothing changed'),
    pixelThreshold: z
      .number()
      .min(1)
      .max(255)
      .default(10)
      .describe('grey-level change of a thumbnail cell that counts as motion'),
    minChangedFraction: z.number().min(0).max(1).default(0.002).describe('fraction of cells that must change'),
    maxSkipMs: z.number().int().min(0).default(1000).describe('analyse at least this often even in a still scene'),
  })
  .strict();
export type MotionConfig = z.infer<typeof MotionConfigSchema>;

export const AnalyticsConfigSchema = z
  .object({
    minTrackEvidence: z.number().int().min(1).default(1).describe('crops a track needs before it gets a gender'),
    minVoteMargin: z
      .number()
      .min(0)
      .max(0.5)
      .default(0.1)
      .describe('|mean P(male) - 0.5| below this counts as unknown'),
    liveIntervalMs: z.number().int().min(100).default(1000).describe('dashboard push interval'),
    allowedLatenessMs: z
      .number()
      .int()
      .min(0)
      .default(10 * 60_000)
      .describe("events this far behind a camera's newest are still counted; older ones are counted as late"),
    maxClockAheadMs: z
      .number()
      .int()
      .min(0)
      .default(5 * 60_000)
      .describe(
        "an event stamped further ahead of this process's clock is refused (dead-lettered with the reason): " +
          "it would raise its camera's watermark and make later events late; keep it below allowedLatenessMs",
      ),
    minuteRetentionDays: z
      .number()
      .min(1)
      .default(30)
      .describe(
        'minute buckets, track records and raw line crossings and zone stays are kept this long; hour/day counts stay',
      ),
    kAnonymity: z.number().int().min(1).default(3).describe('buckets with fewer people than this are suppressed'),
    timeZone: TimeZoneSchema.default('UTC').describe(
      'IANA zone of hour and day buckets and peak hours for cameras whose group names none (groups.<name>.timeZone)',
    ),
  })
  .strict();
export type AnalyticsConfig = z.infer<typeof AnalyticsConfigSchema>;

export const UserRoleSchema = z.enum(['viewer', 'operator', 'admin']);
export type UserRole = z.infer<typeof UserRoleSchema>;

export const AuthConfigSchema = z
  .object({
    users: z
      .array(
        z
          .object({
            username: z.string().min(1).max(64),
            role: UserRoleSchema,
            passwordHash: z
              .string()
              .regex(
                /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/,
                'expected the output of `npm run hash-password`',
              )
              .describe('scrypt hash from `npm run hash-password` (the password on stdin)'),
          })
          .strict(),
      )
      .default([]),
    apiKeys: z
      .array(
        z
          .object({
            name: z.string().min(1),
            role: UserRoleSchema,
            keySha256: z
              .string()
              .regex(/^[a-f0-9]{64}$/, 'hex SHA-256 of the key')
              .describe('sha256 of the key, so the config never holds it'),
          })
          .strict(),
      )
      .default([]),
    tokenSecret: z
      .string()
      .min(32)
      .optional()
      .describe('HMAC secret for login tokens; share it across processes; default random per process'),
    tokenTtlMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(12 * 60),
    disabled: z.boolean().default(false).describe('explicitly run without auth (local demo only)'),
    adminWithoutAuth: z
      .boolean()
      .default(false)
      .describe(
        'with auth off, let anonymous callers use the admin API (adding and removing cameras); ' +
          'off by default, so a web page the browser visits cannot change the cameras of a local demo',
      ),
  })
  .strict();
export type AuthConfig = z.infer<typeof AuthConfigSchema>;

export const RateLimitConfigSchema = z
  .object({
    perSecond: z.number().positive().default(20).describe('sustained API requests per second per client'),
    burst: z.number().int().min(1).default(60),
  })
  .strict();

/** `index/count`, 0-based: ingest process `index` of `count` reads its share of the cameras. */
export const IngestShardSchema = z
  .string()
  .regex(/^\d+\/\d+$/, 'write it as "index/count", 0-based, e.g. "0/3" for the first of three ingest processes')
  .transform((text, ctx) => {
    const [index, count] = text.split('/').map(Number) as [number, number];
    if (count < 1 || count > 1024) ctx.addIssue({ code: 'custom', message: 'count must be between 1 and 1024' });
    else if (index >= count)
      ctx.addIssue({ code: 'custom', message: `index ${index} is not below count ${count} (indexes are 0-based)` });
    return { index, count };
  });
export type IngestShard = z.output<typeof IngestShardSchema>;

/**
 * Cameras one ingest process takes by default: 4 per detection core (cores as detector.workers counts
 * them, at most 8). docs/machine-ceilings.md: an analysed frame costs ~45 ms of CPU, so a core keeps
 * up with ~22 frames/s, 4 cameras at the default 5 fps; the 2-core machine ran 8 cameras at 5 fps
 * CPU-bound (43 frames/s). Past that every camera added takes frames from the others (50 cameras
 * took an existing one from 5 to 0.38 fps).
 */
export const DEFAULT_MAX_CAMERAS_PER_CORE = 4;
export const defaultMaxCameras = (cores: number = availableParallelism()): number =>
  DEFAULT_MAX_CAMERAS_PER_CORE * Math.max(1, Math.min(8, cores));

export const IngestConfigSchema = z
  .object({
    maxCameras: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(() => defaultMaxCameras())
      .describe(
        'most cameras this ingest process reads (config file and admin API together); default 4 per core, at most 32: ' +
          'the measured ceiling at 5 fps (docs/machine-ceilings.md); raise it for low fps or a GPU detector',
      ),
    shard: IngestShardSchema.optional().describe(
      'split one camera list across several ingest processes: each reads the cameras that hash to its index',
    ),
    mediaDir: z
      .string()
      .min(1)
      .refine((dir) => dir.startsWith('/'), 'must be an absolute path')
      .optional()
      .describe(
        'file cameras must lie inside this directory; unset = any local file (the demo plays assets/sample.mp4 from the checkout)',
      ),
  })
  .strict();
export type IngestConfig = z.infer<typeof IngestConfigSchema>;

export const RoleSchema = z.enum(['embedded', 'ingest', 'inference', 'analytics']);
export type Role = z.infer<typeof RoleSchema>;

export const AppConfigSchema = z
  .object({
    role: RoleSchema.default('embedded'),
    dataDir: z.string().min(1).default('data'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    http: z
      .object({
        port: z.number().int().min(0).max(65535).default(3000),
        host: z
          .string()
          .min(1)
          .optional()
          .describe('default: 127.0.0.1 while auth is off (anyone reaching the port is a caller), else 0.0.0.0'),
      })
      .strict()
      .default({ port: 3000 }),
    cameras: z.array(CameraConfigSchema).default([]),
    groups: z
      .record(z.string().min(1), CameraGroupConfigSchema)
      .default({})
      .describe('per camera group (cameras[].group): settings its cameras share, such as the time zone'),
    ingest: IngestConfigSchema.default(IngestConfigSchema.parse({})),
    bus: BusConfigSchema.default({ type: 'memory', queueCapacity: 512 }),
    store: StoreConfigSchema.default({ type: 'sqlite' }),
    model: ModelConfigSchema.default({ type: 'faceapi-age-gender' }),
    batcher: BatcherConfigSchema.default(BatcherConfigSchema.parse({})),
    detector: DetectorConfigSchema.default(DetectorConfigSchema.parse({})),
    tracker: TrackerConfigSchema.default(TrackerConfigSchema.parse({})),
    motion: MotionConfigSchema.default(MotionConfigSchema.parse({})),
    counting: CountingConfigSchema.default(CountingConfigSchema.parse({})),
    analytics: AnalyticsConfigSchema.default(AnalyticsConfigSchema.parse({})),
    auth: AuthConfigSchema.default(AuthConfigSchema.parse({})),
    rateLimit: RateLimitConfigSchema.default(RateLimitConfigSchema.parse({})),
    liveView: LiveViewConfigSchema.default(LiveViewConfigSchema.parse({})),
    alerts: AlertsConfigSchema.default(AlertsConfigSchema.parse({})).describe(
      'alert rules and webhooks (docs/alerts.md)',
    ),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.cameras.forEach((cam, i) => {
      if (seen.has(cam.id)) {
        ctx.addIssue({ code: 'custom', path: ['cameras', i, 'id'], message: `duplicate camera id "${cam.id}"` });
      }
      seen.add(cam.id);
      const mediaDirIssue = mediaDirIssueOf(cam.url, cfg.ingest.mediaDir);
      if (mediaDirIssue) ctx.addIssue({ code: 'custom', path: ['cameras', i, 'url'], message: mediaDirIssue });
    });
    const cameraLimitIssue = cameraLimitIssueOf(cfg);
    if (cameraLimitIssue) ctx.addIssue({ code: 'custom', path: ['cameras'], message: cameraLimitIssue });
    // Occupancy of 1 to k − 1 people is withheld everywhere; an alert on it would publish it.
    cfg.alerts.rules.forEach((rule, i) => {
      if (rule.type === 'zone-occupancy' && rule.above < cfg.analytics.kAnonymity - 1)
        ctx.addIssue({
          code: 'custom',
          path: ['alerts', 'rules', i, 'above'],
          message: `must be at least analytics.kAnonymity − 1 = ${cfg.analytics.kAnonymity - 1}: fewer people inside are never shown`,
        });
    });
  });

/**
 * More cameras than one ingest process may read. Sharded, only the total can be judged here (which
 * cameras a shard gets is decided by hashing in the ingest app, which checks its own share at start).
 */
function cameraLimitIssueOf(cfg: {
  role: Role;
  cameras: readonly unknown[];
  ingest: { maxCameras: number; shard?: IngestShard | undefined };
}): string | null {
  if (cfg.role !== 'ingest' && cfg.role !== 'embedded') return null;
  const processes = cfg.ingest.shard?.count ?? 1;
  const limit = cfg.ingest.maxCameras * processes;
  if (cfg.cameras.length <= limit) return null;
  const where =
    processes === 1
      ? `one ingest process reads at most ingest.maxCameras = ${cfg.ingest.maxCameras}`
      : `${processes} ingest processes (ingest.shard) read at most ${processes} x ingest.maxCameras = ${limit}`;
  return `${cfg.cameras.length} cameras configured, but ${where}; raise ingest.maxCameras if the machine has room (docs/ingest.md), or split the cameras across more ingest processes with ingest.shard`;
}

/** Why a camera URL lies outside ingest.mediaDir; null when it does not (or is refused by the camera schema already). */
function mediaDirIssueOf(url: string, mediaDir: string | undefined): string | null {
  let source;
  try {
    source = parseCameraSource(url);
  } catch {
    return null;
  }
  try {
    checkMediaDir(source, mediaDir);
    return null;
  } catch (err) {
    if (err instanceof CameraSourceError) return err.message;
    throw err;
  }
}

type ParsedConfig = z.infer<typeof AppConfigSchema>;
/** The validated config; derived defaults (the SQLite path under dataDir, the HTTP host) are filled in. */
export type AppConfig = Omit<ParsedConfig, 'store' | 'http'> & {
  readonly store: StoreConfig;
  readonly http: { readonly port: number; readonly host: string };
};

/** Whether the API answers without credentials: auth.disabled, or no users and no API keys configured. */
export function isAuthOff(auth: Pick<AuthConfig, 'disabled' | 'users' | 'apiKeys'>): boolean {
  return auth.disabled || (auth.users.length === 0 && auth.apiKeys.length === 0);
}
export type AppConfigInput = z.input<typeof AppConfigSchema>;
