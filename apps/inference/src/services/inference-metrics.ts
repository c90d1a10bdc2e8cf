import { Inject, Injectable } from '@nestjs/common';
import { METRICS } from '@crowdlens/common';
import type { BatchReport, ClassifierInfo } from '@crowdlens/models';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

@Injectable()
export class InferenceMetrics {
  private readonly batchSize: Histogram;
  private readonly batchFill: Histogram;
  private readonly queueWait: Histogram;
  private readonly runTime: Histogram;
  private readonly images: Counter;
  private readonly failures: Counter;
  private readonly retries: Counter;
  private readonly modelInfo: Gauge<'name' | 'version' | 'sha256' | 'provider'>;

  constructor(@Inject(METRICS) registry: Registry) {
    this.batchSize = new Histogram({
      name: 'crowdlens_inference_batch_size',
      help: 'Crops per model run',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    });
    this.batchFill = new Histogram({
      name: 'crowdlens_inference_batch_fill_ratio',
      help: 'Batch size / max batch: how full each batch was',
      buckets: [0.1, 0.25, 0.5, 0.75, 1],
      registers: [registry],
    });
    this.queueWait = new Histogram({
      name: 'crowdlens_inference_queue_wait_seconds',
      help: 'Longest wait of a crop in the batcher queue, per batch',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
    this.runTime = new Histogram({
      name: 'crowdlens_inference_run_seconds',
      help: 'Model run time per batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    this.images = new Counter({
      name: 'crowdlens_inference_images_total',
      help: 'Crops classified',
      registers: [registry],
    });
    this.failures = new Counter({
      name: 'crowdlens_inference_failures_total',
      help: 'Crops that could not be classified (undecodable, or the classifier failed on every try): dead-lettered',
      registers: [registry],
    });
    this.retries = new Counter({
      name: 'crowdlens_inference_retries_total',
      help: 'Classifier failures retried (the crop is tried again, with backoff, a bounded number of times)',
      registers: [registry],
    });
    this.modelInfo = new Gauge({
      name: 'crowdlens_model_info',
      help: 'The loaded classifier: always 1, its identity in the labels (sha256 empty without a manifest; provider = runtime in use)',
      labelNames: ['name', 'version', 'sha256', 'provider'],
      registers: [registry],
    });
  }

  /** Which model this process serves, for dashboards and alerts (a fleet running mixed versions shows at a glance). */
  model(info: ClassifierInfo): void {
    this.modelInfo.reset();
    this.modelInfo.set(
      { name: info.name, version: info.version, sha256: info.sha256 ?? '', provider: info.runtime },
      1,
    );
  }

  batch(report: BatchReport): void {
    this.batchSize.observe(report.size);
    this.batchFill.observe(report.fill);
    this.queueWait.observe(report.maxQueueWaitMs / 1000);
    this.runTime.observe(report.runMs / 1000);
    this.images.inc(report.size);
  }

  failure(): void {
    this.failures.inc();
  }

  retry(): void {
    this.retries.inc();
  }
}
