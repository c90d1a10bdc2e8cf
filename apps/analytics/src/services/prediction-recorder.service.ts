import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { MESSAGE_BUS, RetryLaterError, type MessageBus, type Subscription } from '@crowdlens/bus';
import { GENDER_PREDICTIONS_TOPIC, type GenderPrediction } from '@crowdlens/contracts';
import { AGGREGATE_STORE, type AggregateStore, type PredictionRecord } from '@crowdlens/storage';
import { LOGGER, METRICS, Readiness } from '@crowdlens/common';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';

export const ANALYTICS_GROUP = 'crowdlens-analytics';

const FLUSH_SIZE = 256;
const FLUSH_MS = 100;
/** Retry pauses while the store fails: 250 ms doubling to 10 s. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;

interface Waiting {
  readonly record: PredictionRecord;
  readonly done: (error?: Error) => void;
}

/**
 * Predictions in -> aggregates in the store, in small transactions. A message
 * is acknowledged only after its transaction committed (at-least-once), and
 * the store ignores ids it has already applied (no double counts).
 *
 * A failing store (database restarting, network gone) is waited out, not
 * reported per message: the batch is retried with backoff for as long as it
 * takes, and /ready says the store is failing meanwhile. Failing the messages
 * instead would dead-letter valid predictions and commit past them: lost
 * counts. The bus heartbeats while handlers wait, and Kafka keeps what has not
 * been acknowledged. Stopping mid-outage hands the batch back (RetryLaterError),
 * uncommitted, for the next start.
 */
@Injectable()
export class PredictionRecorder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private pending: Waiting[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private subscription: Subscription | null = null;
  private readonly applied: Counter;
  private readonly duplicates: Counter;
  private readonly storeFailures: Counter;
  private storeFailing = false;
  private stopping = false;
  private wake: (() => void) | null = null;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(AGGREGATE_STORE) private readonly store: AggregateStore,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) registry: Registry,
  ) {
    this.applied = new Counter({
      name: 'crowdlens_analytics_predictions_applied_total',
      help: 'Predictions counted into the aggregates',
      registers: [registry],
    });
    this.duplicates = new Counter({
      name: 'crowdlens_analytics_predictions_duplicate_total',
      help: 'Redelivered predictions recognised and ignored',
      registers: [registry],
    });
    this.storeFailures = new Counter({
      name: 'crowdlens_analytics_store_failures_total',
      help: 'Failed attempts to store a batch of predictions (each is retried)',
      registers: [registry],
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      GENDER_PREDICTIONS_TOPIC,
      { group: ANALYTICS_GROUP, concurrency: FLUSH_SIZE },
      (p) => this.record(p),
    );
    Readiness.register('analytics', () => this.subscription !== null && !this.storeFailing);
  }

  record(p: GenderPrediction): Promise<void> {
    const record: PredictionRecord = {
      predictionId: p.predictionId,
      cameraId: p.cameraId,
      trackId: p.trackId,
      frameTs: p.frameTs,
      probMale: p.probMale,
    };
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ record, done: (error) => (error ? reject(error) : resolve()) });
      if (this.pending.length >= FLUSH_SIZE) this.flushSoon(0);
      else this.flushSoon(FLUSH_MS);
    });
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
    const records = batch.map((w) => w.record);
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.store.applyPredictions(records);
        this.applied.inc(result.applied);
        this.duplicates.inc(result.duplicates);
        if (this.storeFailing) this.logger.info({ attempts: attempt }, 'store recovered; predictions stored');
        this.storeFailing = false;
        batch.forEach((w) => w.done());
        return;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.storeFailures.inc();
        this.storeFailing = true;
        if (this.stopping) {
          this.logger.warn({ err: message, records: batch.length }, 'stopping with the store down: batch handed back');
          const error = new RetryLaterError(`store unavailable: ${message}`);
          batch.forEach((w) => w.done(error));
          return;
        }
        // Attempts 1, 2, 4, 8, ...: an outage of minutes logs a handful of lines, not thousands.
        if ((attempt & (attempt - 1)) === 0) {
          this.logger.error(
            { err: message, records: batch.length, attempt },
            'storing predictions failed; retrying (nothing is dropped)',
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

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.subscription?.close();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flushing;
    await this.flush();
  }
}
