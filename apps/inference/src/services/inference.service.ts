import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import { MESSAGE_BUS, RetryLaterError, type MessageBus, type Subscription } from '@crowdlens/bus';
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
import { CLASSIFY_RETRY, ClassifyRetry, DEFAULT_CLASSIFY_RETRY, type ClassifyRetryOptions } from './classify-retry';
import { InferenceMetrics } from './inference-metrics';

export const INFERENCE_GROUP = 'crowdlens-inference';

/** Crops in -> dynamic batches through the classifier -> predictions out. */
@Injectable()
export class InferenceService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly batcher: DynamicBatcher<RgbImage, GenderScore>;
  private readonly retry: ClassifyRetry;
  private subscription: Subscription | null = null;
  private started = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(GENDER_CLASSIFIER) private readonly classifier: GenderClassifier,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly decoder: JpegDecoder,
    private readonly metrics: InferenceMetrics,
    @Optional() @Inject(CLASSIFY_RETRY) retry: ClassifyRetryOptions | null = null,
  ) {
    this.retry = new ClassifyRetry(retry ?? DEFAULT_CLASSIFY_RETRY, (err, attempt) => {
      this.metrics.retry();
      this.logger.warn({ err: err.message, attempt }, 'classifier failed; the crop is tried again');
    });
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

  /**
   * An undecodable image is the crop's fault: it throws at once and the bus
   * dead-letters it. A classifier failure is retried (ClassifyRetry) and the
   * crop dead-lettered only once the tries are spent.
   */
  async handle(crop: FaceCrop): Promise<void> {
    const started = performance.now();
    const where = `crop ${crop.cropId} (camera ${crop.cameraId})`;
    let image: RgbImage;
    try {
      image = await this.decoder.decode(crop.jpeg, crop.width, crop.height);
    } catch (err) {
      this.metrics.failure();
      throw new Error(`${where}: undecodable image: ${(err as Error).message}`);
    }
    let score: GenderScore;
    try {
      score = await this.retry.run(() => this.batcher.submit(image));
    } catch (err) {
      if (err instanceof RetryLaterError) throw err;
      this.metrics.failure();
      throw new Error(`${where}: ${(err as Error).message}`);
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
    // A crop waiting for its next classifier try is handed back rather than holding the close.
    this.retry.stop();
    await this.subscription?.close();
    await this.batcher.close();
    await this.classifier.close();
  }
}
