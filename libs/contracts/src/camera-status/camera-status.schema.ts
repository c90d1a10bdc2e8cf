import { z } from 'zod';
import { defineTopic } from '../topic';
import { CameraIdSchema } from '../ids';

export const CAMERA_STATUS_SCHEMA_VERSION = 1;

export const CameraStateSchema = z.enum(['connecting', 'streaming', 'backoff', 'failed', 'stopped']);
export type CameraState = z.infer<typeof CameraStateSchema>;

/** Health of one camera as ingest sees it. URLs are always redacted before they get here. */
export const CameraStatusSchema = z
  .object({
    schemaVersion: z.literal(CAMERA_STATUS_SCHEMA_VERSION),
    cameraId: CameraIdSchema,
    name: z.string(),
    group: z.string().optional(),
    url: z.string().describe('redacted source URL'),
    state: CameraStateSchema,
    lastError: z.string().nullable(),
    fps: z.number().nonnegative().describe('analysed frames per second, recent'),
    framesIn: z.number().int().nonnegative(),
    framesAnalysed: z.number().int().nonnegative(),
    framesDropped: z.number().int().nonnegative().describe('frames dropped because detection was behind'),
    // Added after v1 shipped: a default keeps statuses from older ingest builds valid.
    framesSkipped: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe('frames not sent to detection because nothing moved (motion gate)'),
    facesDetected: z.number().int().nonnegative(),
    // Added after v1 shipped, optional for the same reason; alert rules read it (detector-latency).
    detectMsRecent: z
      .number()
      .nonnegative()
      .optional()
      .describe('face detection latency over the last ~10 detections (moving average, worker queue included), ms'),
    tracks: z.number().int().nonnegative(),
    reconnects: z.number().int().nonnegative(),
    updatedAt: z.number().int().nonnegative(),
  })
  .strict();
export type CameraStatus = z.infer<typeof CameraStatusSchema>;

export const CAMERA_STATUS_TOPIC = defineTopic({
  name: 'crowdlens.camera-status.v1',
  schemaVersion: CAMERA_STATUS_SCHEMA_VERSION,
  schema: CameraStatusSchema,
  keyOf: (s: CameraStatus) => s.cameraId,
  contentType: 'application/json',
});
