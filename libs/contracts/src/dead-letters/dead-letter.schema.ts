import { z } from 'zod';
import { defineTopic } from '../topic';

export const DEAD_LETTER_SCHEMA_VERSION = 1;

/** A message a consumer could not accept, kept with the reason so nothing is lost silently. */
export const DeadLetterSchema = z
  .object({
    schemaVersion: z.literal(DEAD_LETTER_SCHEMA_VERSION),
    sourceTopic: z.string(),
    key: z.string().nullable(),
    reason: z.string(),
    /** Original payload, base64; crops are never dead-lettered with their image (privacy). */
    payloadBase64: z.string(),
    partition: z.number().int().nullable(),
    offset: z.string().nullable(),
    failedAt: z.number().int(),
  })
  .strict();
export type DeadLetter = z.infer<typeof DeadLetterSchema>;

export const DEAD_LETTERS_TOPIC = defineTopic({
  name: 'crowdlens.dead-letters.v1',
  schemaVersion: DEAD_LETTER_SCHEMA_VERSION,
  schema: DeadLetterSchema,
  keyOf: (d: DeadLetter) => d.key ?? d.sourceTopic,
  contentType: 'application/json',
});
