import { RetryLaterError } from '@crowdlens/bus';
import { ExponentialBackoff } from '@crowdlens/runtime';
import type { ApplyResult, StoreErrorKind } from '@crowdlens/storage';
import type { Counter } from 'prom-client';
import type { Logger } from 'pino';

const FLUSH_SIZE = 256;
const FLUSH_MS = 100;
/** Retry pauses while the store fails: 250 ms doubling to 10 s. */
const RETRY_BACKOFF = { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0 } as const;

/** Handlers a recorder's subscription may run at once: one transaction's worth, so a batch can fill. */
export const RECORDER_CONCURRENCY = FLUSH_SIZE;

export interface StoreBatchWriterOptions<R> {
  /** What is written, for logs: "predictions", "track events". */
  readonly what: string;
  /** One transaction for the whole batch; ids already applied come back as duplicates. */
  readonly apply: (records: readonly R[]) => Promise<ApplyResult>;
  /** Whether a failed `apply` can ever succeed (the store's rule: classifyStoreError). */
  readonly classify: (error: unknown) => StoreErrorKind;
  /** The record's id, for logs and dead-letter reasons. */
  readonly describe: (record: R) => string;
  readonly applied: Counter;
  readonly duplicates: Counter;
  /** Failed attempts that are retried (the store was unavailable). */
  readonly failures: Counter;
  /** Records the store refused for good, dead-lettered. */
  readonly rejected: Counter;
  readonly logger: Logger;
}

interface Waiting<R> {
  readonly record: R;
  readonly done: (error?: Error) => void;
}

/**
 * Bus messages in -> store transactions out, batched by size or deadline. The
 * promise `add` returns resolves only after the transaction holding the record
 * committed, so a message is acknowledged only then (at-least-once), and the
 * store ignores ids it has already applied (no double counts).
 *
 * A failing store (database restarting, network gone) is waited out, not
 * reported per message: the batch is retried with backoff for as long as it
 * takes, and `failing` says so meanwhile (/ready). Failing the messages instead
 * would dead-letter valid records and commit past them: lost counts. The bus
 * heartbeats while handlers wait, and Kafka keeps what has not been
 * acknowledged. Stopping mid-outage hands the batch back (RetryLaterError),
 * uncommitted, for the next start.
 *
 * A permanent failure (the database refused the data itself, see
 * classifyStoreError) is not retried: the batch is split in halves and each
 * stored on its own, down to the records that are refused alone. Those fail
 * their `add` with the store's reason — the bus dead-letters their messages
 * and goes on — and every other record of the batch is stored. One bad
 * record costs about 2·log2(batch) extra transactions, and never blocks its
 * partition.
 */
export class StoreBatchWriter<R> {
  private pending: Waiting<R>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private storeFailing = false;
  private stopping = false;
  private wake: (() => void) | null = null;

  constructor(private readonly options: StoreBatchWriterOptions<R>) {}

  /** True while the last attempt to store a batch failed. */
  get failing(): boolean {
    return this.storeFailing;
  }

  add(record: R): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ record, done: (error) => (error ? reject(error) : resolve()) });
      if (this.pending.length >= FLUSH_SIZE) this.flushSoon(0);
      else this.flushSoon(FLUSH_MS);
    });
  }

  /**
   * Shutdown: a retry pause is cut short first (a handler stuck in it would keep the subscription
   * from closing), then the source is closed, then what is pending is stored once more or handed back.
   */
  async stop(closeSource: () => Promise<void>): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await closeSource();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flushing;
    await this.flush();
  }

  private flushSoon(delayMs: number): void {
    if (delayMs === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushing = this.flushing.then(() => this.flush());
    }, delayMs);
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, this.pending.length);
    if (batch.length > 0) await this.store(batch);
  }

  /** Stores `batch`, retrying while the store is unavailable; a refused batch is split until the bad records are alone. */
  private async store(batch: readonly Waiting<R>[]): Promise<void> {
    const refusal = await this.applyRetrying(batch);
    if (!refusal) return;
    if (batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      await this.store(batch.slice(0, half));
      await this.store(batch.slice(half));
      return;
    }
    const [only] = batch as [Waiting<R>];
    const id = this.options.describe(only.record);
    this.options.rejected.inc();
    this.options.logger.warn(
      { err: refusal.message, record: id },
      `the store refused one of the ${this.options.what} for good; it is dead-lettered, the rest go on`,
    );
    only.done(new Error(`store refused ${id} (permanent): ${refusal.message}`));
  }

  /** Resolves null once stored (or handed back at shutdown), or with the store's error when it refused the data. */
  private async applyRetrying(batch: readonly Waiting<R>[]): Promise<Error | null> {
    const { what, logger } = this.options;
    const records = batch.map((w) => w.record);
    const backoff = new ExponentialBackoff(RETRY_BACKOFF);
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.options.apply(records);
        this.options.applied.inc(result.applied);
        this.options.duplicates.inc(result.duplicates);
        if (this.storeFailing) logger.info({ attempts: attempt }, `store recovered; ${what} stored`);
        this.storeFailing = false;
        batch.forEach((w) => w.done());
        return null;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (this.options.classify(err) === 'permanent') {
          // The store answered: it is up, the data is the problem.
          this.storeFailing = false;
          return error;
        }
        this.options.failures.inc();
        this.storeFailing = true;
        if (this.stopping) {
          logger.warn(
            { err: error.message, records: batch.length },
            `stopping with the store down: ${what} handed back`,
          );
          const handedBack = new RetryLaterError(`store unavailable: ${error.message}`);
          batch.forEach((w) => w.done(handedBack));
          return null;
        }
        // Attempts 1, 2, 4, 8, ...: an outage of minutes logs a handful of lines, not thousands.
        if ((attempt & (attempt - 1)) === 0) {
          logger.error(
            { err: error.message, records: batch.length, attempt },
            `storing ${what} failed; retrying (nothing is dropped)`,
          );
        }
        await this.pause(backoff.next());
      }
    }
  }

  /** A retry pause that shutdown cuts short. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).finally(() => {
      this.wake = null;
    });
  }
}
