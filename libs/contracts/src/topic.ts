import type { z } from 'zod';

/**
 * A topic is the only way to name a stream: its wire name, the schema of its
 * values and how a value is keyed. Adapters (in-memory, Kafka) take a Topic,
 * never a bare string, so a typo is a compile error, not a silent new stream.
 */
export interface Topic<S extends z.ZodType = z.ZodType> {
  /** Wire name, versioned: a breaking change gets a new topic. */
  readonly name: string;
  readonly schemaVersion: number;
  readonly schema: S;
  /** Partitioning key; camera id everywhere so one camera stays ordered. */
  readonly keyOf: (value: z.infer<S>) => string;
  /** `binary` topics carry a JSON header and a raw payload (face JPEGs). */
  readonly contentType: 'application/json' | 'application/x-crowdlens-binary';
}

export type TopicValue<T extends Topic> = z.infer<T['schema']>;

export function defineTopic<S extends z.ZodType>(topic: Topic<S>): Topic<S> {
  return Object.freeze(topic);
}
