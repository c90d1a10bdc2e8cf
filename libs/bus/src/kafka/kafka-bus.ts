import type { ConnectionOptions } from 'node:tls';
import { DEAD_LETTERS_TOPIC, DEAD_LETTER_SCHEMA_VERSION, type Topic, type TopicValue } from '@crowdlens/contracts';
import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type KafkaMessage,
  type Producer,
} from 'kafkajs';
import type {
  BusStats,
  MessageBus,
  MessageHandler,
  MessageMeta,
  SubscribeOptions,
  Subscription,
  TopicGroupStats,
} from '../message-bus.port';
import { RetryLaterError } from '../retry-later.error';
import { BinaryCodecError, decodeBinary, decodeBinaryHeader, encodeBinary } from './binary-codec';
import {
  KafkaSecurityError,
  asSecurityError,
  kafkajsSasl,
  kafkajsSsl,
  probeTls,
  scrubSecrets,
  scrubbingLogger,
  secretsOf,
  type KafkaSaslOptions,
  type KafkaTlsOptions,
} from './kafka-security';
import { SILENT_LOGGER, kafkajsLogCreator, type BusLogger } from './kafkajs-logger';
import { assignmentChange } from './partition-assignment';
import { runPartitionWindow, WindowHandlerError } from './partition-window';
import { SendQueue } from './send-queue';

export const CONTENT_TYPE_HEADER = 'content-type';
export const SCHEMA_VERSION_HEADER = 'schema-version';

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
  readonly maxSendBatchBytes: number;
  readonly maxSendBatchMessages: number;
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

const DEFAULT_TUNING: Omit<KafkaBusTuning, 'partitionsConsumedConcurrently'> = {
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
  maxSendBatchBytes: 512 * 1024,
  maxSendBatchMessages: 1_000,
};

/**
 * The port's groups are per topic (a group name shared by two topics is two
 * independent streams). Kafka's are not, and kafkajs' round-robin assigner
 * hands any member partitions of any topic its group consumes, so the Kafka
 * group id carries the topic: `analytics` on predictions is
 * `analytics.crowdlens.gender-predictions.v1` in Kafka's tools.
 */
export function kafkaGroupId(group: string, topic: Topic): string {
  return `${group}.${topic.name}`;
}

/** Why a message could not be delivered; becomes the dead letter's reason. */
class RejectedMessage extends Error {
  override readonly name = 'RejectedMessage';
}

class GroupCounters {
  delivered = 0;
  failed = 0;
  /** One map per live subscription: partition -> messages behind the high watermark after its last batch. */
  readonly lags = new Set<Map<number, number>>();

  get queued(): number {
    let n = 0;
    for (const lag of this.lags) for (const v of lag.values()) n += v;
    return n;
  }
}

/**
 * The distributed-mode bus over Apache Kafka (kafkajs).
 *
 * Delivery is at-least-once. Each subscription is one kafkajs consumer in
 * the subscription's group, run with `eachBatch`: every fetched batch of a
 * partition goes through a sliding window of `SubscribeOptions.concurrency`
 * handlers (per assigned partition; partitions run side by side, see
 * `partitionsConsumedConcurrently`), and only the highest offset below which
 * every message is done is resolved (partition-window.ts). A message is done
 * once its handler resolved, or once it was safely in the dead-letter topic
 * — so a committed offset always means "handled or dead-lettered", and a
 * crash (process dies, or hangs past the session timeout) before the commit
 * means redelivery of the first unfinished message and everything after it.
 * Consumers therefore must be idempotent (analytics dedupes by prediction
 * id). If even the dead-letter publish fails, the batch stops short of that
 * message and kafkajs fetches it again.
 *
 * Resolved offsets are committed at most every `commitIntervalMs` while a
 * batch runs, at the end of every batch, before a rebalance and on close;
 * the window heartbeats while handlers are slow, so a long batch does not
 * cost the group membership. Per-message commits would cost a broker round
 * trip each.
 *
 * TLS and SASL (kafka-security.ts): a refused login or broker certificate is
 * a KafkaSecurityError at once, not minutes of retries, and the password and
 * client key are scrubbed from everything this bus logs or throws.
 */
export class KafkaBus implements MessageBus {
  private readonly kafka: Kafka;
  private readonly tuning: KafkaBusTuning;
  private readonly logger: BusLogger;
  private readonly secrets: readonly string[];
  private readonly tls: ConnectionOptions | undefined;
  /** The TLS handshake check, once per bus (again after a try that could not reach any broker). */
  private tlsChecked: Promise<void> | null = null;
  /** A refused login or certificate fails every connect for a while, instead of hammering the broker. */
  private securityFailure: { readonly error: KafkaSecurityError; readonly until: number } | null = null;
  private readonly producer: Producer;
  private readonly sendQueue: SendQueue;
  private producerReady: Promise<void> | null = null;
  private admin: Admin | null = null;
  private adminReady: Promise<Admin> | null = null;
  private readonly provisioned = new Map<string, Promise<void>>();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private readonly published: Record<string, number> = {};
  private readonly groups = new Map<string, GroupCounters>();
  private deadLettered = 0;
  /** No new subscriptions once close() began. */
  private closing: Promise<void> | null = null;
  /** No publishes once the subscriptions drained: their last handlers may still publish. */
  private closed = false;

  constructor(private readonly options: KafkaBusOptions) {
    if (options.brokers.length === 0) throw new Error('KafkaBus needs at least one broker');
    this.tuning = {
      ...DEFAULT_TUNING,
      partitionsConsumedConcurrently: options.partitions,
      ...options.tuning,
    };
    this.secrets = secretsOf(options.sasl, options.ssl);
    this.logger = scrubbingLogger(options.logger ?? SILENT_LOGGER, this.secrets);
    this.tls = kafkajsSsl(options.ssl);
    if (options.sasl?.mechanism === 'plain' && !this.tls) {
      this.logger.warn(
        { brokers: options.brokers, user: options.sasl.username },
        'kafka: SASL PLAIN without TLS sends the password in clear text; set bus.ssl',
      );
    }
    if (this.tls?.rejectUnauthorized === false) {
      this.logger.warn(
        { brokers: options.brokers },
        "kafka: bus.ssl.rejectUnauthorized is false: brokers' certificates are not verified",
      );
    }
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      ssl: this.tls,
      sasl: kafkajsSasl(options.sasl),
      connectionTimeout: this.tuning.connectionTimeoutMs,
      requestTimeout: this.tuning.requestTimeoutMs,
      retry: { ...this.tuning.retry },
      logLevel: logLevel.WARN,
      logCreator: kafkajsLogCreator(this.logger),
    });
    this.producer = this.kafka.producer({
      // Broker-side dedupe of producer retries; needs acks=all and one request in flight (SendQueue batches instead).
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Java client's murmur2 partitioner: the same camera lands on the same partition from any client.
      createPartitioner: Partitioners.DefaultPartitioner,
      // Bounded on purpose (kafkajs warns once about it): like the Java client's
      // delivery.timeout.ms, a publish fails after ~2 minutes of outage instead
      // of hanging its caller forever.
      retry: { ...this.tuning.retry },
    });
    this.sendQueue = new SendQueue(this.producer, {
      maxBatchBytes: this.tuning.maxSendBatchBytes,
      maxBatchMessages: this.tuning.maxSendBatchMessages,
    });
  }

  async publish<T extends Topic>(topic: T, value: TopicValue<T>): Promise<void> {
    if (this.closed) throw new Error(`bus closed: cannot publish to ${topic.name}`);
    await this.publishValue(topic, value);
  }

  /** Also used for dead letters, which handlers still finishing during close() must be able to send. */
  private async publishValue<T extends Topic>(topic: T, value: TopicValue<T>): Promise<void> {
    const parsed = topic.schema.safeParse(value);
    if (!parsed.success) {
      throw new Error(`refusing to publish an invalid ${topic.name} message: ${parsed.error.message}`);
    }
    const data = parsed.data as TopicValue<T>;
    const encoded =
      topic.contentType === 'application/json'
        ? Buffer.from(JSON.stringify(data), 'utf8')
        : encodeBinary(data as Record<string, unknown>);
    await this.send(topic, topic.keyOf(data), encoded);
    this.published[topic.name] = (this.published[topic.name] ?? 0) + 1;
  }

  async subscribe<T extends Topic>(
    topic: T,
    options: SubscribeOptions,
    handler: MessageHandler<TopicValue<T>>,
  ): Promise<Subscription> {
    if (this.closing) throw new Error(`bus closed: cannot subscribe to ${topic.name}`);
    await this.ensureTopic(topic);
    const groupId = kafkaGroupId(options.group, topic);
    const fromBeginning = options.fromBeginning ?? (this.options.newGroupsStartFrom ?? 'earliest') === 'earliest';
    // "earliest" needs no pin: kafkajs resets a partition without a committed offset to its
    // oldest retained message, also when it changes hands before its first commit (redelivery, never loss).
    if (!fromBeginning) await this.pinNewGroup(topic, groupId);
    const counters = this.countersFor(topic.name, options.group);
    const subscription = new KafkaSubscription(
      this.kafka.consumer({
        groupId,
        sessionTimeout: this.tuning.sessionTimeoutMs,
        rebalanceTimeout: this.tuning.rebalanceTimeoutMs,
        heartbeatInterval: this.tuning.heartbeatIntervalMs,
        maxWaitTimeInMs: this.tuning.maxWaitTimeMs,
        allowAutoTopicCreation: false,
        // After the retries are spent kafkajs restarts the consumer; never give up on a stream —
        // unless the broker refused our credentials or certificate, which no restart fixes.
        retry: { ...this.tuning.retry, restartOnFailure: async (err) => this.shouldRestart(topic, options.group, err) },
      }),
      topic,
      { ...options, fromBeginning },
      counters,
      (payload) => this.handleBatch(topic, options, counters, handler as MessageHandler<unknown>, payload),
      this.logger,
    );
    this.subscriptions.add(subscription);
    subscription.onClosed = () => this.subscriptions.delete(subscription);
    try {
      await subscription.start(
        this.tuning.partitionsConsumedConcurrently,
        this.tuning.commitIntervalMs,
        this.tuning.joinTimeoutMs,
      );
    } catch (err) {
      await subscription.close().catch(() => undefined);
      throw this.explain(err);
    }
    return subscription;
  }

  stats(): BusStats {
    const groups: TopicGroupStats[] = [];
    for (const [k, c] of this.groups) {
      const [topic, group] = k.split('\u0000') as [string, string];
      groups.push({ topic, group, delivered: c.delivered, dropped: 0, failed: c.failed, queued: c.queued });
    }
    return { published: { ...this.published }, deadLettered: this.deadLettered, groups };
  }

  /**
   * Stops intake, lets in-flight handlers finish (and publish what they
   * produce), commits, then flushes the producer and disconnects.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
      this.closed = true;
      // Results and dead letters published by the last handlers may still be queued.
      await this.sendQueue.flush();
      if (this.producerReady) await this.producer.disconnect().catch(() => undefined);
      if (this.admin) await this.admin.disconnect().catch(() => undefined);
      this.logger.info(
        { clientId: this.options.clientId, published: { ...this.published }, deadLettered: this.deadLettered },
        'kafka: bus closed',
      );
    })();
    return this.closing;
  }

  // ---- producing ------------------------------------------------------------

  private async send(topic: Topic, key: string, value: Buffer): Promise<void> {
    await this.ensureTopic(topic);
    await this.connectProducer();
    const headers: IHeaders = {
      [CONTENT_TYPE_HEADER]: topic.contentType,
      [SCHEMA_VERSION_HEADER]: String(topic.schemaVersion),
    };
    await this.sendQueue.send(topic.name, { key, value, headers });
  }

  private connectProducer(): Promise<void> {
    if (!this.producerReady) {
      this.producerReady = this.secureConnect(() => this.producer.connect()).catch((err: unknown) => {
        this.producerReady = null;
        throw err;
      });
    }
    return this.producerReady;
  }

  // ---- security -------------------------------------------------------------

  /**
   * Every kafkajs connect goes through here: a certificate the bus does not
   * trust fails at once (kafkajs would retry it like an outage), and a
   * refused login or certificate becomes a KafkaSecurityError that names the
   * setting to check. Such a failure is answered from memory for one
   * `maxRetryTime`, so a caller publishing in a loop does not hammer the broker.
   */
  private async secureConnect(connect: () => Promise<void>): Promise<void> {
    const failed = this.securityFailure;
    if (failed && Date.now() < failed.until) throw failed.error;
    try {
      await this.checkTls();
      await connect();
      this.securityFailure = null;
    } catch (err) {
      throw this.explain(err);
    }
  }

  private checkTls(): Promise<void> {
    const tls = this.tls;
    if (!tls) return Promise.resolve();
    this.tlsChecked ??= Promise.all(
      this.options.brokers.map((b) => probeTls(b, tls, this.tuning.connectionTimeoutMs)),
    ).then(
      () => undefined,
      (err: unknown) => {
        this.tlsChecked = null;
        throw err;
      },
    );
    return this.tlsChecked;
  }

  /** The error a caller sees: a KafkaSecurityError where one applies (remembered), scrubbed of secrets in any case. */
  private explain(err: unknown): unknown {
    const security = asSecurityError(err, this.options);
    if (security) {
      security.message = scrubSecrets(security.message, this.secrets);
      this.securityFailure = { error: security, until: Date.now() + this.tuning.retry.maxRetryTime };
      return security;
    }
    if (err instanceof Error && this.secrets.length > 0) err.message = scrubSecrets(err.message, this.secrets);
    return err;
  }

  private shouldRestart(topic: Topic, group: string, err: Error): boolean {
    const security = asSecurityError(err, this.options);
    if (!security) return true;
    this.logger.error(
      { topic: topic.name, group, err: scrubSecrets(security.message, this.secrets) },
      'kafka: consumer stopped: the broker refused its credentials or certificate',
    );
    return false;
  }

  // ---- topics and groups ----------------------------------------------------

  private connectAdmin(): Promise<Admin> {
    if (!this.adminReady) {
      const admin = this.kafka.admin({ retry: { ...this.tuning.retry } });
      this.adminReady = this.secureConnect(() => admin.connect()).then(
        () => {
          this.admin = admin;
          return admin;
        },
        (err: unknown) => {
          this.adminReady = null;
          throw err;
        },
      );
    }
    return this.adminReady;
  }

  /** Creates the topic once per bus (no auto-creation on the broker); an existing topic is kept as is. */
  private ensureTopic(topic: Topic): Promise<void> {
    let ready = this.provisioned.get(topic.name);
    if (!ready) {
      ready = this.createTopic(topic).catch((err: unknown) => {
        this.provisioned.delete(topic.name);
        throw err;
      });
      this.provisioned.set(topic.name, ready);
    }
    return ready;
  }

  private async createTopic(topic: Topic): Promise<void> {
    // Asking first keeps the broker's "already exists" answer (logged by kafkajs) out of every start.
    const existing = await this.adminCall((a) => a.listTopics());
    if (existing.includes(topic.name)) return;
    const configEntries = topicConfig(topic, this.options);
    const created = await this.adminCall((a) =>
      a.createTopics({
        waitForLeaders: true,
        topics: [{ topic: topic.name, numPartitions: this.options.partitions, configEntries }],
      }),
    );
    if (created) {
      const config = Object.fromEntries(configEntries.map((e) => [e.name, e.value]));
      this.logger.info({ topic: topic.name, partitions: this.options.partitions, config }, 'kafka topic created');
    }
  }

  /**
   * Kafka's own "latest" reset happens lazily, at a member's first fetch: a
   * message published between `subscribe` resolving and that fetch would be
   * skipped, and so would everything on a partition that changes hands before
   * its first commit. So a group that has no members and partitions it never
   * committed gets the end offsets as of now committed as its start, before
   * this member joins. (Not with a seek after joining: kafkajs keeps a seek
   * for a partition this member loses before its next fetch, and applies it
   * whenever the partition comes back — rewinding the group to its start.)
   * A group with running members is left alone: they pinned it when it
   * began; only partitions added to the topic since start at "latest".
   * Costs one join and leave, once in a group's life.
   */
  private async pinNewGroup(topic: Topic, groupId: string): Promise<void> {
    const missing = await this.uncommittedPartitions(topic, groupId);
    if (missing.size === 0) return;
    const ends = await this.adminCall((admin) => admin.fetchTopicOffsets(topic.name));
    const partitions = ends
      .filter((e) => missing.has(e.partition))
      .map((e) => ({ partition: e.partition, offset: e.high }));
    // What kafkajs' admin.setOffsets does — a member that joins, seeks (kafkajs commits a seek
    // before its first fetch) and leaves — with a short fetch wait: setOffsets' member idles for
    // kafkajs' default 5 s before that first fetch completes.
    const pinner = this.kafka.consumer({
      groupId,
      maxWaitTimeInMs: 100,
      sessionTimeout: this.tuning.sessionTimeoutMs,
      rebalanceTimeout: this.tuning.rebalanceTimeoutMs,
      heartbeatInterval: this.tuning.heartbeatIntervalMs,
      allowAutoTopicCreation: false,
      retry: { ...this.tuning.retry },
    });
    try {
      await pinner.connect();
      await pinner.subscribe({ topic: topic.name, fromBeginning: true });
      const { state } = await pinner.describeGroup();
      // Members are running (or pinning right now): the group's start is theirs.
      if (state !== 'Empty' && state !== 'Dead') return;
      await new Promise<void>((resolve, reject) => {
        pinner.on(pinner.events.FETCH, () => resolve());
        pinner.on(pinner.events.CRASH, ({ payload }) => reject(payload.error));
        pinner.run({ eachBatchAutoResolve: false, eachBatch: async () => undefined }).catch(reject);
        // It must not consume anything; the seeks are applied (committed) all the same.
        pinner.pause([{ topic: topic.name }]);
        for (const p of partitions) pinner.seek({ topic: topic.name, ...p });
      });
      this.logger.debug({ topic: topic.name, groupId, partitions }, 'kafka: new consumer group starts at the end');
    } catch (err) {
      // Not worth failing the subscription: the group then starts at "latest" as of its first fetch.
      this.logger.warn(
        { topic: topic.name, groupId, err: (err as Error).message },
        'kafka: could not pin where a new consumer group starts',
      );
    } finally {
      await pinner.disconnect().catch(() => undefined);
    }
  }

  private async uncommittedPartitions(topic: Topic, groupId: string): Promise<Set<number>> {
    const [committed] = await this.adminCall((admin) => admin.fetchOffsets({ groupId, topics: [topic.name] }));
    return new Set((committed?.partitions ?? []).filter((p) => p.offset === '-1').map((p) => p.partition));
  }

  /** kafkajs' admin does not retry a coordinator that is still loading (a broker just started); this does. */
  private async adminCall<R>(call: (admin: Admin) => Promise<R>): Promise<R> {
    const { retries, initialRetryTime, maxRetryTime } = this.tuning.retry;
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(await this.connectAdmin());
      } catch (err) {
        const retriable = (err as { retriable?: boolean }).retriable === true;
        if (!retriable || attempt >= retries) throw err;
        await new Promise((r) => setTimeout(r, Math.min(maxRetryTime, initialRetryTime * 2 ** attempt)));
      }
    }
  }

  private countersFor(topic: string, group: string): GroupCounters {
    const k = `${topic}\u0000${group}`;
    let c = this.groups.get(k);
    if (!c) {
      c = new GroupCounters();
      this.groups.set(k, c);
    }
    return c;
  }

  // ---- consuming ------------------------------------------------------------

  /** One fetched batch of one partition through the subscription's window. */
  private async handleBatch(
    topic: Topic,
    options: SubscribeOptions,
    counters: GroupCounters,
    handler: MessageHandler<unknown>,
    payload: EachBatchPayload,
  ): Promise<void> {
    const { batch } = payload;
    try {
      await runPartitionWindow(
        batch.messages,
        (message) => this.handle(topic, options.group, counters, handler, batch.partition, message),
        {
          resolveOffset: (offset) => payload.resolveOffset(offset),
          heartbeat: () => payload.heartbeat(),
          commitIfDue: () => payload.commitOffsetsIfNecessary(),
          isRunning: () => payload.isRunning(),
          isStale: () => payload.isStale(),
        },
        { concurrency: options.concurrency ?? 1, heartbeatIntervalMs: this.tuning.heartbeatIntervalMs },
      );
    } catch (err) {
      if (err instanceof WindowHandlerError) {
        this.logger.error(
          { topic: topic.name, group: options.group, partition: batch.partition, offset: err.offset, err: err.message },
          'kafka: message neither handled nor dead-lettered; it will be fetched again',
        );
      }
      throw err;
    }
  }

  private async handle(
    topic: Topic,
    group: string,
    counters: GroupCounters,
    handler: MessageHandler<unknown>,
    partition: number,
    message: KafkaMessage,
  ): Promise<void> {
    const key = message.key ? message.key.toString('utf8') : null;
    const meta: MessageMeta = {
      topic: topic.name,
      key: key ?? '',
      partition,
      offset: message.offset,
      timestamp: Number(message.timestamp),
    };
    let value: unknown;
    try {
      value = decode(topic, message);
    } catch (err) {
      counters.failed++;
      await this.deadLetter(topic, group, message, partition, key, err as Error);
      return;
    }
    try {
      await handler(value, meta);
      counters.delivered++;
    } catch (err) {
      // Not the message's fault: leave it uncommitted so it is fetched again.
      if (err instanceof RetryLaterError) throw err;
      counters.failed++;
      const error = err instanceof Error ? err : new Error(String(err));
      await this.deadLetter(topic, group, message, partition, key, new Error(`handler: ${error.message}`));
    }
  }

  /**
   * Parks a message the consumer could not accept. Awaited before the offset
   * moves on: if this throws, kafkajs redelivers instead of losing it.
   */
  private async deadLetter(
    topic: Topic,
    group: string,
    message: KafkaMessage,
    partition: number,
    key: string | null,
    error: Error,
  ): Promise<void> {
    this.deadLettered++;
    const reason = `${group}: ${error.message}`;
    this.logger.warn(
      { topic: topic.name, group, partition, offset: message.offset, key, reason },
      'kafka: message dead-lettered',
    );
    // A failing dead-letter consumer must not feed its own input.
    if (topic.name === DEAD_LETTERS_TOPIC.name) return;
    await this.publishValue(DEAD_LETTERS_TOPIC, {
      schemaVersion: DEAD_LETTER_SCHEMA_VERSION,
      sourceTopic: topic.name,
      key,
      reason,
      payloadBase64: deadLetterPayload(topic, message.value),
      partition,
      offset: message.offset,
      failedAt: Date.now(),
    });
  }
}

/**
 * Topic configs for a topic this bus creates. Crops are faces: besides the
 * short `retention.ms`, their segments roll every half retention period —
 * Kafka deletes a segment only once its newest message has expired, so
 * under steady traffic a crop would otherwise live until the segment fills
 * its 1 GiB or reaches the broker's 7-day `segment.ms`. A crop is then gone
 * at most ~1.5 retention periods (plus the broker's retention check
 * interval) after it was published.
 */
export function topicConfig(
  topic: Topic,
  options: Pick<KafkaBusOptions, 'retentionMs' | 'cropRetentionMs'>,
): Array<{ name: string; value: string }> {
  if (topic.contentType === 'application/json') {
    return [{ name: 'retention.ms', value: String(options.retentionMs) }];
  }
  return [
    { name: 'retention.ms', value: String(options.cropRetentionMs) },
    { name: 'segment.ms', value: String(Math.max(1_000, Math.floor(options.cropRetentionMs / 2))) },
  ];
}

/** Headers, codec and schema: anything wrong here is the message's fault, never retried. */
function decode(topic: Topic, message: KafkaMessage): unknown {
  const contentType = header(message.headers, CONTENT_TYPE_HEADER);
  if (contentType !== undefined && contentType !== topic.contentType) {
    throw new RejectedMessage(`content-type ${contentType}, expected ${topic.contentType}`);
  }
  const version = header(message.headers, SCHEMA_VERSION_HEADER);
  if (version !== undefined && version !== String(topic.schemaVersion)) {
    throw new RejectedMessage(`schema version ${version}, expected ${topic.schemaVersion}`);
  }
  if (!message.value || message.value.byteLength === 0) throw new RejectedMessage('empty message');
  let raw: unknown;
  if (topic.contentType === 'application/json') {
    try {
      raw = JSON.parse(message.value.toString('utf8'));
    } catch (err) {
      throw new RejectedMessage(`invalid JSON: ${(err as Error).message}`);
    }
  } else {
    try {
      raw = decodeBinary(message.value);
    } catch (err) {
      throw new RejectedMessage(`invalid binary frame: ${(err as Error).message}`);
    }
  }
  const parsed = topic.schema.safeParse(raw);
  if (!parsed.success) throw new RejectedMessage(`schema: ${parsed.error.message}`);
  return parsed.data;
}

/** JSON topics keep the original bytes; binary topics keep only the header fields, never the image (privacy). */
function deadLetterPayload(topic: Topic, value: Buffer | null): string {
  if (!value) return '';
  if (topic.contentType === 'application/json') return value.toString('base64');
  try {
    return Buffer.from(JSON.stringify(decodeBinaryHeader(value).fields), 'utf8').toString('base64');
  } catch (err) {
    if (err instanceof BinaryCodecError) return '';
    throw err;
  }
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

/** One kafkajs consumer; its lifecycle is the Subscription's. */
class KafkaSubscription implements Subscription {
  onClosed: (() => void) | null = null;
  private readonly lag = new Map<number, number>();
  /** Partitions this consumer owns as of its last group join. */
  private owned: ReadonlySet<number> = new Set();
  private hasJoined = false;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly consumer: Consumer,
    private readonly topic: Topic,
    private readonly options: SubscribeOptions,
    private readonly counters: GroupCounters,
    private readonly eachBatch: (payload: EachBatchPayload) => Promise<void>,
    private readonly logger: BusLogger,
  ) {}

  async start(partitionsConcurrently: number, commitIntervalMs: number, joinTimeoutMs: number): Promise<void> {
    const { consumer, topic, options, counters, lag } = this;
    counters.lags.add(lag);
    const context = { topic: topic.name, group: options.group };
    let joined!: () => void;
    const firstJoin = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const mine = new Set(payload.memberAssignment[topic.name] ?? []);
      for (const p of [...lag.keys()]) if (!mine.has(p)) lag.delete(p);
      // A first join with nothing assigned is news too: this member idles (more members than partitions).
      const change =
        assignmentChange(this.owned, [...mine]) ??
        (this.hasJoined ? null : { partitions: [], assigned: [], revoked: [] });
      this.owned = mine;
      this.hasJoined = true;
      if (change) this.logger.info({ ...context, memberId: payload.memberId, ...change }, 'kafka: partitions assigned');
      else
        this.logger.debug(
          { ...context, partitions: [...mine] },
          'kafka: consumer rejoined group, partitions unchanged',
        );
      joined();
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      lag.set(payload.partition, Math.max(0, Number(payload.offsetLag)));
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.logger.error(
        { ...context, err: payload.error.message, restart: payload.restart },
        'kafka: consumer crashed',
      );
    });
    await consumer.connect();
    await consumer.subscribe({ topic: topic.name, fromBeginning: options.fromBeginning ?? false });
    await consumer.run({
      partitionsConsumedConcurrently: partitionsConcurrently,
      // The window resolves offsets itself: a batch cut short (shutdown, seek, failure) must not be resolved whole.
      eachBatchAutoResolve: false,
      autoCommitInterval: commitIntervalMs,
      eachBatch: this.eachBatch,
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`kafka: ${options.group} did not join ${topic.name} within ${joinTimeoutMs} ms`)),
        joinTimeoutMs,
      );
    });
    try {
      await Promise.race([firstJoin, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    if (!this.closing) {
      // kafkajs' disconnect stops fetching; the windows take no new message,
      // wait for their running handlers and resolve what completed; kafkajs
      // commits it, leaves the group, then disconnects.
      this.closing = this.consumer.disconnect().finally(() => {
        this.logger.info(
          { topic: this.topic.name, group: this.options.group, revoked: [...this.owned].sort((a, b) => a - b) },
          'kafka: consumer left group, partitions released',
        );
        this.owned = new Set();
        this.counters.lags.delete(this.lag);
        this.onClosed?.();
      });
    }
    return this.closing;
  }
}
