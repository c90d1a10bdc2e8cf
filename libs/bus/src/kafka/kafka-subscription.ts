import type { Topic } from '@crowdlens/contracts';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { SubscribeOptions, Subscription } from '../message-bus.port';
import type { BusLogger } from './kafkajs-logger';
import type { GroupCounters } from './message-delivery';
import { assignmentChange } from './partition-assignment';

/** One kafkajs consumer; its lifecycle is the Subscription's. */
export class KafkaSubscription implements Subscription {
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
