import { z } from 'zod';
import { defineTopic } from '../topic';
import { CameraIdSchema, MessageIdSchema } from '../ids';

export const GENDER_PREDICTION_SCHEMA_VERSION = 1;

export const GenderLabelSchema = z.enum(['female', 'male']);
export type GenderLabel = z.infer<typeof GenderLabelSchema>;

/** The classifier's view of one crop. Perceived gender, aggregated downstream only. */
export const GenderPredictionSchema = z
  .object({
    schemaVersion: z.literal(GENDER_PREDICTION_SCHEMA_VERSION),
    predictionId: MessageIdSchema.describe('= cropId; the idempotency key for aggregation'),
    cameraId: CameraIdSchema,
    trackId: MessageIdSchema,
    frameTs: z.number().int().nonnegative().describe('capture time of the crop, epoch ms'),
    probMale: z.number().min(0).max(1).describe('softmax probability of class 1 (male)'),
    label: GenderLabelSchema,
    quality: z.number().min(0).max(1),
    model: z.object({ name: z.string().min(1), version: z.string().min(1) }).strict(),
    inferenceMs: z.number().nonnegative(),
  })
  .strict();
export type GenderPrediction = z.infer<typeof GenderPredictionSchema>;

export const GENDER_PREDICTIONS_TOPIC = defineTopic({
  name: 'crowdlens.gender-predictions.v1',
  schemaVersion: GENDER_PREDICTION_SCHEMA_VERSION,
  schema: GenderPredictionSchema,
  keyOf: (p: GenderPrediction) => p.cameraId,
  contentType: 'application/json',
});
