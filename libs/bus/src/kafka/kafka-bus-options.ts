import type { KafkaSaslOptions, KafkaTlsOptions } from './kafka-security';
import type { BusLogger } from './kafkajs-logger';

/** Knobs with working defaults; tests shorten the timeouts. */
export interface KafkaBusTuning {
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** kafkajs retry policy for producer, consumers and admin: it is what rides out a broker restart. */
  readonly retry: { readonly retries: number; readonly initialRetryTime: number; readonly maxRetryTime: number };
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /**
   * Longest gap between offset commits while a fetched batch is still being
   * handled (a batch is always committed when it ends). Bounds what a crash
   * in the middle of a long batch redelivers.
   */
  readonly commitIntervalMs: number;
  /** Fetch long-poll; also bounds how long closing a subscription waits for an idle fetch. */
  readonly maxWaitTimeMs: number;
  /** Partitions one subscription handles at once (each partition stays in order); default = partitions. */
  readonly partitionsConsumedConcurrently: number;
  /** How long `subscribe` waits for the consumer to join its group. */
  readonly joinTimeoutMs: number;
  /**
   * How long pinning a new "latest" group's start may take (join, seek, leave);
   * past it the pin is abandoned and the group starts at "latest" as of its first fetch.
   */
  readonly pinTimeoutMs: number;
  readonly maxSendBatchBytes: number;
  readonly maxSendBatchMessages: number;
  /**
   * Bounds of the producer's send queue (messages waiting for the request in
   * flight). When either is reached, `publish` waits for room (backpressure,
   * FIFO, so order is kept) instead of queueing more; the waits are counted.
   */
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
}

/** Matches KafkaBusConfig from @crowdlens/config (its `type` aside) plus a logger. */
export interface KafkaBusOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Partitions for topics this bus creates; existing topics are left as they are. */
  readonly partitions: number;
  /** retention.ms for binary (face crop) topics: crops are faces, keep minutes. */
  readonly cropRetentionMs: number;
  /** retention.ms for every other topic. */
  readonly retentionMs: number;
  /** TLS to the brokers: `true` = system CAs; PEM contents otherwise (readKafkaTlsFiles reads `bus.ssl`'s files). */
  readonly ssl?: boolean | KafkaTlsOptions;
  readonly sasl?: KafkaSaslOptions;
  /**
   * Where a group with no committed offsets starts when the subscription does
   * not say (`SubscribeOptions.fromBeginning`): `earliest` = the oldest
   * retained message, so nothing published before a consumer first started is
   * lost to start order (consumers are idempotent, and crops keep only
   * minutes); `latest` = only what is published from the subscription on.
   * Default `earliest`.
   */
  readonly newGroupsStartFrom?: 'earliest' | 'latest';
  readonly logger?: BusLogger;
  readonly tuning?: Partial<KafkaBusTuning>;
}

export const DEFAULT_TUNING: Omit<KafkaBusTuning, 'partitionsConsumedConcurrently'> = {
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 30_000,
  // ~2 minutes of retrying before a publish or a consumer gives up.
  retry: { retries: 30, initialRetryTime: 300, maxRetryTime: 5_000 },
  // Failover time after a crash. Safe this short because the partition window
  // heartbeats while handlers run (kafkajs only heartbeats between messages).
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 60_000,
  heartbeatIntervalMs: 1_000,
  commitIntervalMs: 1_000,
  maxWaitTimeMs: 1_000,
  joinTimeoutMs: 90_000,
  pinTimeoutMs: 60_000,
  maxSendBatchBytes: 512 * 1024,
  maxSendBatchMessages: 1_000,
  maxQueuedMessages: 10_000,
  maxQueuedBytes: 32 * 1024 * 1024,
};
