import { z } from 'zod';
import { defineTopic } from '../topic';
import { CameraIdSchema, MessageIdSchema } from '../ids';

export const BoxSchema = z
  .object({
    x: z.number().describe('left edge, source-frame pixels'),
    y: z.number().describe('top edge, source-frame pixels'),
    width: z.number().positive(),
    height: z.number().positive(),
  })
  .strict();
export type Box = z.infer<typeof BoxSchema>;

export const FACE_CROP_SCHEMA_VERSION = 1;

/**
 * One face crop in flight from ingest to inference. The JPEG is a face: it
 * lives only on the bus (short retention) and is never persisted.
 */
export const FaceCropSchema = z
  .object({
    schemaVersion: z.literal(FACE_CROP_SCHEMA_VERSION),
    cropId: MessageIdSchema.describe('unique per crop; becomes the prediction id'),
    cameraId: CameraIdSchema,
    trackId: MessageIdSchema.describe('tracker id, unique within the camera run'),
    frameTs: z.number().int().nonnegative().describe('capture time, epoch ms'),
    box: BoxSchema,
    detectionScore: z.number().min(0).max(1),
    quality: z.number().min(0).max(1).describe('crop quality score used for best-crop selection'),
    width: z.literal(224),
    height: z.literal(224),
    jpeg: z.instanceof(Uint8Array).describe('224x224 RGB JPEG'),
  })
  .strict();
export type FaceCrop = z.infer<typeof FaceCropSchema>;

export const FACE_CROPS_TOPIC = defineTopic({
  name: 'crowdlens.face-crops.v1',
  schemaVersion: FACE_CROP_SCHEMA_VERSION,
  schema: FaceCropSchema,
  keyOf: (crop: FaceCrop) => crop.cameraId,
  contentType: 'application/x-crowdlens-binary',
});
