import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { MESSAGE_BUS, type MessageBus, type Subscription } from '@crowdlens/bus';
import { GENDER_PREDICTIONS_TOPIC, type GenderPrediction } from '@crowdlens/contracts';
import { AGGREGATE_STORE, classifyStoreError, type AggregateStore, type PredictionRecord } from '@crowdlens/storage';
import { CLOCK, LOGGER, METRICS, Readiness } from '@crowdlens/common';
import type { Clock } from '@crowdlens/runtime';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { EventTimeBound } from './event-time-bound';
import { RECORDER_CONCURRENCY, StoreBatchWriter } from './store-batch-writer';

export const ANALYTICS_GROUP = 'crowdlens-analytics';

/**
 * Predictions in -> vote evidence and face counts in the store, in small
 * transactions; a message is acknowledged only after its transaction
 * committed (StoreBatchWriter has the batching, retry and shutdown rules).
 */
@Injectable()
export class PredictionRecorder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private subscription: Subscription | null = null;
  private readonly bound: EventTimeBound;
  private readonly writer: StoreBatchWriter<PredictionRecord>;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(AGGREGATE_STORE) store: AggregateStore,
    @Inject(LOGGER) logger: Logger,
    @Inject(METRICS) registry: Registry,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(CLOCK) clock: Clock,
  ) {
    this.bound = new EventTimeBound(clock, config.analytics.maxClockAheadMs);
    this.writer = new StoreBatchWriter<PredictionRecord>({
      what: 'predictions',
      apply: (records) => store.applyPredictions(records),
      classify: classifyStoreError,
      describe: (r) => `prediction ${JSON.stringify(r.predictionId)}`,
      logger,
      applied: new Counter({
        name: 'crowdlens_analytics_predictions_applied_total',
        help: 'Predictions counted into the aggregates',
        registers: [registry],
      }),
      duplicates: new Counter({
        name: 'crowdlens_analytics_predictions_duplicate_total',
        help: 'Redelivered predictions recognised and ignored',
        registers: [registry],
      }),
      failures: new Counter({
        name: 'crowdlens_analytics_store_failures_total',
        help: 'Failed attempts to store a batch of predictions (store unavailable; each is retried)',
        registers: [registry],
      }),
      rejected: new Counter({
        name: 'crowdlens_analytics_predictions_rejected_total',
        help: 'Predictions the store refused for good (e.g. data it cannot hold), dead-lettered',
        registers: [registry],
      }),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      GENDER_PREDICTIONS_TOPIC,
      { group: ANALYTICS_GROUP, concurrency: RECORDER_CONCURRENCY },
      (p) => this.record(p),
    );
    Readiness.register('analytics', () => this.subscription !== null && !this.writer.failing);
  }

  /** Rejects (the bus dead-letters) a prediction stamped too far in this process's future. */
  async record(p: GenderPrediction): Promise<void> {
    this.bound.check(p.cameraId, 'frameTs', p.frameTs);
    return this.writer.add({
      predictionId: p.predictionId,
      cameraId: p.cameraId,
      trackId: p.trackId,
      frameTs: p.frameTs,
      probMale: p.probMale,
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.writer.stop(async () => {
      await this.subscription?.close();
    });
  }
}
