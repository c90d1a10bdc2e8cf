import { z } from 'zod';
import { ModelCardSchema } from '@crowdlens/models';

/** GET /api/models: the classifier this process serves, with its model card or a plain "unmeasured". */
export const ActiveModelSchema = z.object({
  name: z.string(),
  version: z.string(),
  runtime: z.string().describe('e.g. onnxruntime-cpu, tfjs-wasm'),
  architecture: z.string().nullable(),
  precision: z.string().nullable(),
  sha256: z.string().nullable(),
  measured: z.boolean().describe('false when the model carries no card: its accuracy is unknown'),
  headline: z.string().describe('one line a user reads: accuracy and on what, or "unmeasured" and why'),
  card: ModelCardSchema.nullable(),
});
export type ActiveModel = z.infer<typeof ActiveModelSchema>;

export const ModelsResponseSchema = z.object({ active: ActiveModelSchema });
export type ModelsResponse = z.infer<typeof ModelsResponseSchema>;
