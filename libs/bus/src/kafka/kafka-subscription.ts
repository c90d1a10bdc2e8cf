import { ExponentialBackoff } from '@crowdlens/runtime/backoff';
import type { Topic } from '@crowdlens/contracts';
import type { Consumer, ConsumerRunConfig, EachBatchPayload } from 'kafkajs';
import type { SubscribeOptions, Subscription } from '../message-bus.port';
import type { BusLogger } from './kafkajs-logger';
import type { GroupCounters } from './message-delivery';
import { assignmentChange } from './partition-assignment';

/**
 * Delays between our own restarts of a consumer kafkajs gave up on: the first soon (the broker is
 * usually back by then), then no faster than every 30 s while it stays away.
 */
const RESTART_BACKOFF = { initialMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** One kafkajs consumer; its lifecycle is the Subscription's. */
export class KafkaSubscription implements Subscription {
  onClosed: (() => void) | null = null;
  /** Restarts done by this class (not by kafkajs) after a crash kafkajs would not restart from. */
  restarts = 0;
  private readonly lag = new Map<number, number>();
  /** Partitions this consumer owns as of its last group join. */
  private owned: ReadonlySet<number> = new Set();
  private hasJoined = false;
  private closing: Promise<void> | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly restartBackoff = new ExponentialBackoff(RESTART_BACKOFF);
  private runConfig: ConsumerRunConfig | null = null;

  constructor(
    private readonly consumer: Consumer,
    private readonly topic: Topic,
    private readonly options: SubscribeOptions,
    private readonly counters: GroupCounters,
    private readonly eachBatch: (payload: EachBatchPayload) => Promise<void>,
    private readonly logger: BusLogger,
    /** False for a crash no restart can fix (the broker refused our credentials or certificate). */
    private readonly shouldRestart: (err: Error) => boolean,
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
      if (!payload.restart) this.scheduleRestart(payload.error);
    });
    consumer.on(consumer.events.FETCH_START, () => this.restartBackoff.reset());
    this.runConfig = {
      partitionsConsumedConcurrently: partitionsConcurrently,
      // The window resolves offsets itself: a batch cut short (shutdown, seek, failure) must not be resolved whole.
      eachBatchAutoResolve: false,
      autoCommitInterval: commitIntervalMs,
      eachBatch: this.eachBatch,
    };
    await this.connectAndRun();
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

  private async connectAndRun(): Promise<void> {
    const { consumer, topic, options } = this;
    await consumer.connect();
    await consumer.subscribe({ topic: topic.name, fromBeginning: options.fromBeginning ?? false });
    await consumer.run(this.runConfig ?? undefined);
  }

  /**
   * kafkajs restarts a crashed consumer only after a retriable error. Some errors a broker restart
   * causes are classed non-retriable (no group coordinator yet: KafkaJSGroupCoordinatorNotFound),
   * and the consumer would then stay stopped for good while the process looks healthy. A stream
   * is never given up on here: the consumer is started again, with backoff, until it runs, unless
   * the broker refused our credentials (no restart fixes that) or the subscription is closing.
   */
  private scheduleRestart(err: Error): void {
    if (this.closing || this.restartTimer || !this.shouldRestart(err)) return;
    const delay = this.restartBackoff.next();
    const context = { topic: this.topic.name, group: this.options.group };
    this.logger.warn(
      { ...context, retryInMs: delay, err: err.message },
      'kafka: restarting the consumer kafkajs gave up on',
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.closing) return;
      this.restarts++;
      this.connectAndRun().then(
        () => {
          this.logger.info(context, 'kafka: consumer restarted');
          // close() came while it was starting: its disconnect may have run before this run.
          if (this.closing) void this.consumer.disconnect().catch(() => undefined);
        },
        (restartErr: unknown) =>
          this.scheduleRestart(restartErr instanceof Error ? restartErr : new Error(String(restartErr))),
      );
    }, delay);
  }

  close(): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
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
