import { DEAD_LETTERS_TOPIC, DEAD_LETTER_SCHEMA_VERSION, type Topic, type TopicValue } from '@crowdlens/contracts';
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
import { BoundedQueue } from './bounded-queue';

export interface InMemoryBusOptions {
  /** Per topic and group; a full queue drops and counts the newest message. */
  readonly queueCapacity: number;
  readonly onError?: (error: Error, context: { topic: string; group: string }) => void;
}

interface Envelope {
  readonly value: unknown;
  readonly meta: MessageMeta;
}

interface Consumer {
  readonly handler: MessageHandler<unknown>;
  readonly concurrency: number;
  running: number;
  closed: boolean;
}

class GroupChannel {
  readonly queue: BoundedQueue<Envelope>;
  readonly consumers: Consumer[] = [];
  delivered = 0;
  dropped = 0;
  failed = 0;
  private next = 0;
  private inFlight = new Set<Promise<void>>();

  constructor(
    readonly topic: Topic,
    readonly group: string,
    capacity: number,
    private readonly onFailure: (env: Envelope, error: Error) => Promise<void>,
  ) {
    this.queue = new BoundedQueue(capacity);
  }

  offer(env: Envelope): void {
    if (!this.queue.offer(env)) {
      this.dropped++;
      return;
    }
    this.pump();
  }

  /** Hands queued messages to idle consumers, round robin, one message each at a time. */
  pump(): void {
    for (;;) {
      const live = this.consumers.filter((c) => !c.closed);
      if (live.length === 0 || this.queue.size === 0) return;
      let consumer: Consumer | undefined;
      for (let i = 0; i < live.length; i++) {
        const candidate = live[(this.next + i) % live.length]!;
        if (candidate.running < candidate.concurrency) {
          consumer = candidate;
          this.next = (this.next + i + 1) % live.length;
          break;
        }
      }
      if (!consumer) return;
      const env = this.queue.poll()!;
      consumer.running++;
      const c = consumer;
      const run = this.deliver(c, env).finally(() => {
        c.running--;
        this.inFlight.delete(run);
        this.pump();
      });
      this.inFlight.add(run);
    }
  }

  private async deliver(consumer: Consumer, env: Envelope): Promise<void> {
    try {
      const parsed = this.topic.schema.safeParse(env.value);
      if (!parsed.success) throw new Error(`schema: ${parsed.error.message}`);
      await consumer.handler(parsed.data, env.meta);
      this.delivered++;
    } catch (err) {
      // A message that was fine but could not be consumed (store down at shutdown): no dead letter.
      if (err instanceof RetryLaterError) {
        this.dropped++;
        return;
      }
      this.failed++;
      await this.onFailure(env, err instanceof Error ? err : new Error(String(err)));
    }
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}

/**
 * The embedded-mode bus: one process, no broker. Same contract as the Kafka
 * adapter (schemas checked on both sides, failures dead-lettered), but a
 * full queue drops instead of persisting.
 */
export class InMemoryBus implements MessageBus {
  private readonly channels = new Map<string, GroupChannel[]>();
  private readonly published: Record<string, number> = {};
  private deadLettered = 0;
  private closed = false;

  constructor(private readonly options: InMemoryBusOptions) {}

  async publish<T extends Topic>(topic: T, value: TopicValue<T>): Promise<void> {
    if (this.closed) throw new Error(`bus closed: cannot publish to ${topic.name}`);
    const parsed = topic.schema.safeParse(value);
    if (!parsed.success) {
      throw new Error(`refusing to publish an invalid ${topic.name} message: ${parsed.error.message}`);
    }
    this.published[topic.name] = (this.published[topic.name] ?? 0) + 1;
    const meta: MessageMeta = {
      topic: topic.name,
      key: topic.keyOf(parsed.data),
      partition: null,
      offset: null,
      timestamp: Date.now(),
    };
    for (const channel of this.channels.get(topic.name) ?? []) channel.offer({ value: parsed.data, meta });
  }

  async subscribe<T extends Topic>(
    topic: T,
    options: SubscribeOptions,
    handler: MessageHandler<TopicValue<T>>,
  ): Promise<Subscription> {
    const channels = this.channels.get(topic.name) ?? [];
    this.channels.set(topic.name, channels);
    let channel = channels.find((c) => c.group === options.group);
    if (!channel) {
      channel = new GroupChannel(topic, options.group, this.options.queueCapacity, (env, error) =>
        this.deadLetter(topic, options.group, env, error),
      );
      channels.push(channel);
    }
    const consumer: Consumer = {
      handler: handler as MessageHandler<unknown>,
      concurrency: Math.max(1, options.concurrency ?? 1),
      running: 0,
      closed: false,
    };
    channel.consumers.push(consumer);
    const ch = channel;
    return {
      close: async () => {
        consumer.closed = true;
        await ch.drain();
      },
    };
  }

  stats(): BusStats {
    const groups: TopicGroupStats[] = [];
    for (const list of this.channels.values()) {
      for (const c of list) {
        groups.push({
          topic: c.topic.name,
          group: c.group,
          delivered: c.delivered,
          dropped: c.dropped,
          failed: c.failed,
          queued: c.queue.size,
        });
      }
    }
    return { published: { ...this.published }, deadLettered: this.deadLettered, groups };
  }

  /** Waits until every queue is empty and no handler runs: deterministic tests and clean shutdown. */
  async idle(): Promise<void> {
    for (;;) {
      const all = [...this.channels.values()].flat();
      await Promise.all(all.map((c) => c.drain()));
      if (all.every((c) => c.queue.size === 0 || c.consumers.every((x) => x.closed))) return;
      await new Promise((r) => setImmediate(r));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.channels.values()].flat().map((c) => c.drain()));
  }

  private async deadLetter(topic: Topic, group: string, env: Envelope, error: Error): Promise<void> {
    this.deadLettered++;
    this.options.onError?.(error, { topic: topic.name, group });
    if (topic.name === DEAD_LETTERS_TOPIC.name) return;
    const payload =
      topic.contentType === 'application/json' ? Buffer.from(JSON.stringify(env.value)).toString('base64') : '';
    await this.publish(DEAD_LETTERS_TOPIC, {
      schemaVersion: DEAD_LETTER_SCHEMA_VERSION,
      sourceTopic: topic.name,
      key: env.meta.key,
      reason: `${group}: ${error.message}`,
      payloadBase64: payload,
      partition: null,
      offset: null,
      failedAt: Date.now(),
    }).catch(() => undefined);
  }
}
