import { DEAD_LETTERS_TOPIC, type Topic, type TopicValue } from '@crowdlens/contracts';
import { Partitioners, type IHeaders, type Producer } from 'kafkajs';
import type {
  BusStats,
  MessageBus,
  MessageHandler,
  SubscribeOptions,
  Subscription,
  TopicGroupStats,
} from '../message-bus.port';
import { encodeBinary } from './binary-codec';
import { pinNewGroup } from './group-pinning';
import { DEFAULT_TUNING, type KafkaBusOptions, type KafkaBusTuning } from './kafka-bus-options';
import { KafkaSubscription } from './kafka-subscription';
import type { BusLogger } from './kafkajs-logger';
import { CONTENT_TYPE_HEADER, GroupCounters, SCHEMA_VERSION_HEADER, deliverBatch } from './message-delivery';
import { SecureKafkaClient } from './secure-kafka-client';
import { SendQueue } from './send-queue';
import { TopicAdmin } from './topic-admin';

export type { KafkaBusOptions, KafkaBusTuning } from './kafka-bus-options';
export { CONTENT_TYPE_HEADER, SCHEMA_VERSION_HEADER } from './message-delivery';
export { topicConfig } from './topic-admin';

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
 * (message-delivery.ts) — so a committed offset always means "handled or
 * dead-lettered", and a crash (process dies, or hangs past the session
 * timeout) before the commit means redelivery of the first unfinished
 * message and everything after it. Consumers therefore must be idempotent
 * (analytics dedupes by prediction id). If even the dead-letter publish
 * fails, the batch stops short of that message and kafkajs fetches it again.
 *
 * Resolved offsets are committed at most every `commitIntervalMs` while a
 * batch runs, at the end of every batch, before a rebalance and on close;
 * the window heartbeats while handlers are slow, so a long batch does not
 * cost the group membership. Per-message commits would cost a broker round
 * trip each.
 *
 * The parts: TLS and SASL (secure-kafka-client.ts, kafka-security.ts: a
 * refused login or certificate is a KafkaSecurityError at once, and secrets
 * are scrubbed from everything logged or thrown), topics (topic-admin.ts),
 * where a new "latest" group starts (group-pinning.ts), consuming and dead
 * letters (message-delivery.ts), one consumer's lifecycle
 * (kafka-subscription.ts) and the bounded producer queue (send-queue.ts).
 */
export class KafkaBus implements MessageBus {
  private readonly client: SecureKafkaClient;
  private readonly tuning: KafkaBusTuning;
  private readonly logger: BusLogger;
  private readonly topics: TopicAdmin;
  private readonly producer: Producer;
  private readonly sendQueue: SendQueue;
  private producerReady: Promise<void> | null = null;
  private readonly subscriptions = new Set<KafkaSubscription>();
  /** Subscribes still on their way (topic, pin, join): close() waits for them, and they close themselves. */
  private readonly opening = new Set<Promise<unknown>>();
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
    this.client = new SecureKafkaClient(options, this.tuning);
    this.logger = this.client.logger;
    this.topics = new TopicAdmin(this.client, options, this.tuning.retry);
    this.producer = this.client.kafka.producer({
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
      maxQueuedMessages: this.tuning.maxQueuedMessages,
      maxQueuedBytes: this.tuning.maxQueuedBytes,
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
    if (this.closing) throw closedError(topic);
    const opening = this.open(topic, options, handler as MessageHandler<unknown>);
    this.opening.add(opening);
    try {
      return await opening;
    } finally {
      this.opening.delete(opening);
    }
  }

  private async open(topic: Topic, options: SubscribeOptions, handler: MessageHandler<unknown>): Promise<Subscription> {
    await this.topics.ensureTopic(topic);
    const groupId = kafkaGroupId(options.group, topic);
    const fromBeginning = options.fromBeginning ?? (this.options.newGroupsStartFrom ?? 'earliest') === 'earliest';
    // "earliest" needs no pin: kafkajs resets a partition without a committed offset to its
    // oldest retained message, also when it changes hands before its first commit (redelivery, never loss).
    if (!fromBeginning) {
      await pinNewGroup(
        {
          uncommittedPartitions: (t, g) => this.topics.uncommittedPartitions(t, g),
          endOffsets: (t) => this.topics.endOffsets(t),
          createConsumer: (config) => this.client.kafka.consumer(config),
          logger: this.logger,
        },
        topic,
        groupId,
        {
          timeoutMs: this.tuning.pinTimeoutMs,
          sessionTimeoutMs: this.tuning.sessionTimeoutMs,
          rebalanceTimeoutMs: this.tuning.rebalanceTimeoutMs,
          heartbeatIntervalMs: this.tuning.heartbeatIntervalMs,
          retry: { ...this.tuning.retry },
        },
      );
    }
    // close() began while the topic or the pin was awaited: no consumer may join after it.
    if (this.closing) throw closedError(topic);
    const counters = this.countersFor(topic.name, options.group);
    const subscription = new KafkaSubscription(
      this.client.kafka.consumer({
        groupId,
        sessionTimeout: this.tuning.sessionTimeoutMs,
        rebalanceTimeout: this.tuning.rebalanceTimeoutMs,
        heartbeatInterval: this.tuning.heartbeatIntervalMs,
        maxWaitTimeInMs: this.tuning.maxWaitTimeMs,
        allowAutoTopicCreation: false,
        // After the retries are spent kafkajs restarts the consumer; never give up on a stream —
        // unless the broker refused our credentials or certificate, which no restart fixes.
        retry: {
          ...this.tuning.retry,
          restartOnFailure: async (err) => this.client.shouldRestart(topic, options.group, err),
        },
      }),
      topic,
      { ...options, fromBeginning },
      counters,
      (payload) =>
        deliverBatch(
          {
            topic,
            options,
            counters,
            handler,
            heartbeatIntervalMs: this.tuning.heartbeatIntervalMs,
            logger: this.logger,
            publishDeadLetter: (letter) => this.publishValue(DEAD_LETTERS_TOPIC, letter),
            onDeadLetter: () => this.deadLettered++,
          },
          payload,
        ),
      this.logger,
      (err) => this.client.shouldRestart(topic, options.group, err),
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
      throw this.client.explain(err);
    }
    // close() began while this consumer was joining: it would otherwise outlive the bus.
    if (this.closing) {
      await subscription.close().catch(() => undefined);
      throw closedError(topic);
    }
    return subscription;
  }

  stats(): BusStats {
    const groups: TopicGroupStats[] = [];
    for (const [k, c] of this.groups) {
      const [topic, group] = k.split('\u0000') as [string, string];
      groups.push({ topic, group, delivered: c.delivered, dropped: 0, failed: c.failed, queued: c.queued });
    }
    return {
      published: { ...this.published },
      deadLettered: this.deadLettered,
      groups,
      sendQueue: this.sendQueue.stats(),
    };
  }

  /**
   * Stops intake (subscribes still on their way close themselves), lets
   * in-flight handlers finish (and publish what they produce), commits, then
   * flushes the producer and disconnects.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.opening]);
      await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
      this.closed = true;
      // Results and dead letters published by the last handlers may still be queued.
      await this.sendQueue.flush();
      if (this.producerReady) await this.producer.disconnect().catch(() => undefined);
      await this.topics.disconnect();
      this.logger.info(
        { clientId: this.options.clientId, published: { ...this.published }, deadLettered: this.deadLettered },
        'kafka: bus closed',
      );
    })();
    return this.closing;
  }

  private async send(topic: Topic, key: string, value: Buffer): Promise<void> {
    await this.topics.ensureTopic(topic);
    await this.connectProducer();
    const headers: IHeaders = {
      [CONTENT_TYPE_HEADER]: topic.contentType,
      [SCHEMA_VERSION_HEADER]: String(topic.schemaVersion),
    };
    await this.sendQueue.send(topic.name, { key, value, headers });
  }

  private connectProducer(): Promise<void> {
    if (!this.producerReady) {
      this.producerReady = this.client
        .connect(() => this.producer.connect())
        .catch((err: unknown) => {
          this.producerReady = null;
          throw err;
        });
    }
    return this.producerReady;
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
}

function closedError(topic: Topic): Error {
  return new Error(`bus closed: cannot subscribe to ${topic.name}`);
}
