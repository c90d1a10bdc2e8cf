import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { MESSAGE_BUS, type MessageBus, type Subscription } from '@crowdlens/bus';
import { GENDER_PREDICTIONS_TOPIC, type GenderPrediction } from '@crowdlens/contracts';
import { AGGREGATE_STORE, type AggregateStore, type PredictionRecord } from '@crowdlens/storage';
import { LOGGER, METRICS, Readiness } from '@crowdlens/common';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';

export const ANALYTICS_GROUP = 'crowdlens-analytics';

const FLUSH_SIZE = 256;
const FLUSH_MS = 100;

interface Waiting {
  readonly record: PredictionRecord;
  readonly done: (error?: Error) => void;
}

/**
 * Predictions in -> aggregates in the store, in small transactions. A message
 * is acknowledged only after its transaction committed (at-least-once), and
 * the store ignores ids it has already applied (no double counts).
 */
@Injectable()
export class PredictionRecorder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private pending: Waiting[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private subscription: Subscription | null = null;
  private readonly applied: Counter;
  private readonly duplicates: Counter;

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
  }

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      GENDER_PREDICTIONS_TOPIC,
      { group: ANALYTICS_GROUP, concurrency: FLUSH_SIZE },
      (p) => this.record(p),
    );
    Readiness.register('analytics', () => this.subscription !== null);
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
    try {
      const result = await this.store.applyPredictions(batch.map((w) => w.record));
      this.applied.inc(result.applied);
      this.duplicates.inc(result.duplicates);
      batch.forEach((w) => w.done());
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.logger.error({ err: error.message, records: batch.length }, 'storing predictions failed');
      batch.forEach((w) => w.done(error));
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.subscription?.close();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flushing;
    await this.flush();
  }
}
