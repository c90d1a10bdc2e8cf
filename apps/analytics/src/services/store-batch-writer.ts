import { RetryLaterError } from '@crowdlens/bus';
import type { ApplyResult } from '@crowdlens/storage';
import type { Counter } from 'prom-client';
import type { Logger } from 'pino';

const FLUSH_SIZE = 256;
const FLUSH_MS = 100;
/** Retry pauses while the store fails: 250 ms doubling to 10 s. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;

/** Handlers a recorder's subscription may run at once: one transaction's worth, so a batch can fill. */
export const RECORDER_CONCURRENCY = FLUSH_SIZE;

export interface StoreBatchWriterOptions<R> {
  /** What is written, for logs: "predictions", "track events". */
  readonly what: string;
  /** One transaction for the whole batch; ids already applied come back as duplicates. */
  readonly apply: (records: readonly R[]) => Promise<ApplyResult>;
  readonly applied: Counter;
  readonly duplicates: Counter;
  readonly failures: Counter;
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
    if (batch.length === 0) return;
    const { what, logger } = this.options;
    const records = batch.map((w) => w.record);
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.options.apply(records);
        this.options.applied.inc(result.applied);
        this.options.duplicates.inc(result.duplicates);
        if (this.storeFailing) logger.info({ attempts: attempt }, `store recovered; ${what} stored`);
        this.storeFailing = false;
        batch.forEach((w) => w.done());
        return;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.options.failures.inc();
        this.storeFailing = true;
        if (this.stopping) {
          logger.warn({ err: message, records: batch.length }, `stopping with the store down: ${what} handed back`);
          const error = new RetryLaterError(`store unavailable: ${message}`);
          batch.forEach((w) => w.done(error));
          return;
        }
        // Attempts 1, 2, 4, 8, ...: an outage of minutes logs a handful of lines, not thousands.
        if ((attempt & (attempt - 1)) === 0) {
          logger.error(
            { err: message, records: batch.length, attempt },
            `storing ${what} failed; retrying (nothing is dropped)`,
          );
        }
        await this.pause(Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempt - 1)));
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
