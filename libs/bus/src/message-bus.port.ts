import type { Topic, TopicValue } from '@crowdlens/contracts';

/** Where a delivered message came from; Kafka fills partition/offset, in-memory leaves them null. */
export interface MessageMeta {
  readonly topic: string;
  readonly key: string;
  readonly partition: number | null;
  readonly offset: string | null;
  readonly timestamp: number;
}

export type MessageHandler<V> = (value: V, meta: MessageMeta) => Promise<void>;

export interface SubscribeOptions {
  /** Consumer group: members of one group share the stream, different groups each get all of it. */
  readonly group: string;
  /**
   * Where a group that never committed starts: true = the oldest retained
   * message, false = from now (a per-process group that only wants live
   * state). Unset = the bus' default (Kafka: `bus.newGroupsStartFrom`,
   * earliest unless configured). Groups that already committed go on from
   * there either way. The in-memory bus keeps nothing, so it starts from now.
   */
  readonly fromBeginning?: boolean;
  /**
   * Handlers this subscriber may run at once (default 1). Above 1, messages
   * of one key may complete out of order; a consumer that batches (inference)
   * needs it so a batch can fill. With Kafka the limit applies per assigned
   * partition (offsets still commit only up to the first unfinished message).
   */
  readonly concurrency?: number;
}

export interface Subscription {
  close(): Promise<void>;
}

export interface TopicGroupStats {
  readonly topic: string;
  readonly group: string;
  readonly delivered: number;
  readonly dropped: number;
  readonly failed: number;
  readonly queued: number;
}

/** The producer's queue, where the adapter has one (Kafka). */
export interface SendQueueStats {
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  /** Publishes waiting for room right now (the queue is full: backpressure). */
  readonly waiting: number;
  /** Publishes that ever had to wait for room. */
  readonly waitedTotal: number;
}

export interface BusStats {
  readonly published: Readonly<Record<string, number>>;
  readonly deadLettered: number;
  readonly groups: readonly TopicGroupStats[];
  readonly sendQueue?: SendQueueStats;
}

/**
 * The one way services talk to each other. Business logic depends on this
 * port only; the in-memory and Kafka adapters are chosen by config.
 *
 * Delivery contract: a handler that resolves has consumed the message; a
 * handler that throws gets the message dead-lettered with the error as reason
 * (the stream goes on), except a RetryLaterError: the message was fine and is
 * delivered again (Kafka) or counted as dropped (in-memory, at shutdown). Values are validated against the topic's schema on
 * both sides.
 */
export interface MessageBus {
  publish<T extends Topic>(topic: T, value: TopicValue<T>): Promise<void>;
  subscribe<T extends Topic>(
    topic: T,
    options: SubscribeOptions,
    handler: MessageHandler<TopicValue<T>>,
  ): Promise<Subscription>;
  stats(): BusStats;
  close(): Promise<void>;
}

/** Nest injection token for the MessageBus port. */
export const MESSAGE_BUS = Symbol('MessageBus');
