import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, redactText, type AppConfig, type CameraConfig } from '@crowdlens/config';
import { MESSAGE_BUS, type MessageBus } from '@crowdlens/bus';
import { CAMERA_STATUS_TOPIC, FACE_CROPS_TOPIC, type CameraStatus, type FaceCrop } from '@crowdlens/contracts';
import { LOGGER, Readiness } from '@crowdlens/common';
import { CameraManager } from '@crowdlens/vision';
import type { Logger } from 'pino';
import { IngestMetrics } from './ingest-metrics';

/**
 * Owns the cameras of this process: capture -> detect -> track -> crop run in
 * libs/vision; this service only connects them to the bus.
 */
@Injectable()
export class IngestService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly manager: CameraManager;
  private ready = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: IngestMetrics,
  ) {
    this.manager = new CameraManager({
      logger: logger.child({ component: 'ingest' }),
      detector: config.detector,
      tracker: config.tracker,
      cropSink: (crop) => this.publishCrop(crop),
      statusSink: (status) => this.publishStatus(status),
      statusIntervalMs: 2_000,
    });
    Readiness.register('ingest', () => this.ready);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.manager.start();
    for (const camera of this.config.cameras) await this.addCamera(camera);
    this.ready = true;
  }

  addCamera(camera: CameraConfig): Promise<CameraStatus> {
    return this.manager.add(camera);
  }

  removeCamera(cameraId: string): Promise<boolean> {
    return this.manager.remove(cameraId);
  }

  cameras(): CameraStatus[] {
    return this.manager.list();
  }

  private async publishCrop(crop: FaceCrop): Promise<void> {
    await this.bus.publish(FACE_CROPS_TOPIC, crop);
    this.metrics.crop(crop.cameraId);
  }

  private publishStatus(status: CameraStatus): void {
    this.metrics.status(status);
    this.bus.publish(CAMERA_STATUS_TOPIC, status).catch((err: unknown) => {
      this.logger.warn({ cameraId: status.cameraId, err: redactText(String(err)) }, 'camera status not published');
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.ready = false;
    await this.manager.stop();
  }
}
