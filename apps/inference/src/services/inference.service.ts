import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import { MESSAGE_BUS, type MessageBus, type Subscription } from '@crowdlens/bus';
import {
  FACE_CROPS_TOPIC,
  GENDER_PREDICTIONS_TOPIC,
  GENDER_PREDICTION_SCHEMA_VERSION,
  type FaceCrop,
  type GenderPrediction,
} from '@crowdlens/contracts';
import {
  DynamicBatcher,
  GENDER_CLASSIFIER,
  type GenderClassifier,
  type GenderScore,
  type RgbImage,
} from '@crowdlens/models';
import { LOGGER, Readiness } from '@crowdlens/common';
import type { Logger } from 'pino';
import { JpegDecoder } from '../adapters/jpeg-decoder';
import { InferenceMetrics } from './inference-metrics';

export const INFERENCE_GROUP = 'crowdlens-inference';

/** Crops in -> dynamic batches through the classifier -> predictions out. */
@Injectable()
export class InferenceService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly batcher: DynamicBatcher<RgbImage, GenderScore>;
  private subscription: Subscription | null = null;
  private started = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(GENDER_CLASSIFIER) private readonly classifier: GenderClassifier,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly decoder: JpegDecoder,
    private readonly metrics: InferenceMetrics,
  ) {
    this.batcher = new DynamicBatcher(config.batcher, (images) => this.classifier.classify(images), {
      onBatch: (report) => this.metrics.batch(report),
      onReportError: (err) => this.logger.error({ err }, 'batch metrics not recorded'),
    });
    Readiness.register('inference', () => this.started);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { maxBatch, maxInFlight, queueCapacity } = this.config.batcher;
    this.subscription = await this.bus.subscribe(
      FACE_CROPS_TOPIC,
      // Enough handlers in flight to fill every running batch, bounded by the batcher's queue.
      { group: INFERENCE_GROUP, concurrency: Math.min(queueCapacity, maxBatch * maxInFlight * 2) },
      (crop) => this.handle(crop),
    );
    this.started = true;
    this.metrics.model(this.classifier.info);
    const { name, version, runtime, precision, card } = this.classifier.info;
    this.logger.info(
      {
        model: { name, version, runtime, precision, accuracy: card?.accuracy ?? 'unmeasured' },
        batcher: this.config.batcher,
      },
      'inference consuming face crops',
    );
  }

  async handle(crop: FaceCrop): Promise<void> {
    const started = performance.now();
    let score: GenderScore;
    try {
      const image = await this.decoder.decode(crop.jpeg, crop.width, crop.height);
      score = await this.batcher.submit(image);
    } catch (err) {
      this.metrics.failure();
      throw new Error(`crop ${crop.cropId} (camera ${crop.cameraId}): ${(err as Error).message}`);
    }
    const prediction: GenderPrediction = {
      schemaVersion: GENDER_PREDICTION_SCHEMA_VERSION,
      predictionId: crop.cropId,
      cameraId: crop.cameraId,
      trackId: crop.trackId,
      frameTs: crop.frameTs,
      probMale: Math.min(1, Math.max(0, score.probMale)),
      label: score.probMale >= 0.5 ? 'male' : 'female',
      quality: crop.quality,
      model: { name: this.classifier.info.name, version: this.classifier.info.version },
      inferenceMs: performance.now() - started,
    };
    await this.bus.publish(GENDER_PREDICTIONS_TOPIC, prediction);
  }

  /**
   * Graceful, before the bus closes: stop intake, let accepted crops finish and
   * their predictions publish (offsets commit after), then release the model.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.subscription?.close();
    await this.batcher.close();
    await this.classifier.close();
  }
}
