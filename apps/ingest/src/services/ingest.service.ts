import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, redactText, redactUrl, type AppConfig, type CameraConfig } from '@crowdlens/config';
import { MESSAGE_BUS, type MessageBus } from '@crowdlens/bus';
import { CAMERA_STATUS_TOPIC, FACE_CROPS_TOPIC, type CameraStatus, type FaceCrop } from '@crowdlens/contracts';
import { LOGGER, Readiness } from '@crowdlens/common';
import {
  CameraManager,
  DuplicateCameraError,
  inputFromUrl,
  UnsupportedSourceError,
  type CameraDetails,
} from '@crowdlens/vision';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { IngestMetrics } from './ingest-metrics';
import {
  effectiveCameras,
  NO_CHANGES,
  RuntimeCamerasStore,
  withAdded,
  withRemoved,
  type RuntimeCameraChanges,
} from './runtime-cameras.store';

/**
 * Owns the cameras of this process: capture -> detect -> track -> crop run in
 * libs/vision; this service connects them to the bus and to the admin API.
 */
@Injectable()
export class IngestService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly manager: CameraManager;
  private readonly store: RuntimeCamerasStore;
  private changes: RuntimeCameraChanges = NO_CHANGES;
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
      tracking: { minHits: config.tracker.minHits },
      motion: config.motion,
      cropSink: (crop) => this.publishCrop(crop),
      statusSink: (status) => this.publishStatus(status),
      statusIntervalMs: 2_000,
    });
    this.store = new RuntimeCamerasStore(join(config.dataDir, 'cameras.json'));
    Readiness.register('ingest', () => this.ready);
  }

  async onApplicationBootstrap(): Promise<void> {
    const loaded = this.store.load();
    if (loaded.quarantined) {
      this.logger.error(
        { path: loaded.quarantined.path, reason: redactText(loaded.quarantined.reason) },
        'cameras added or removed at runtime could not be read; the file was moved aside and the config file alone applies',
      );
    }
    this.changes = loaded.changes;
    const { cameras, shadowed } = effectiveCameras(this.config.cameras, this.changes);
    if (shadowed.length > 0) {
      this.logger.warn({ cameraIds: shadowed }, 'cameras added at runtime now also in the config file: the file wins');
    }
    if (this.changes.added.length > 0 || this.changes.removed.length > 0) {
      this.logger.info(
        { added: this.changes.added.map((c) => c.id), removed: this.changes.removed, path: this.store.path },
        'applying camera changes made at runtime',
      );
    }
    await this.manager.start();
    for (const camera of cameras) await this.manager.add(camera);
    this.ready = true;
  }

  /** Adds a camera at runtime (admin API). 409 for a taken id, 400 for a URL scheme ffmpeg is not given. */
  async addCamera(camera: CameraConfig): Promise<CameraDetails> {
    try {
      inputFromUrl(camera.url, camera, redactUrl(camera.url));
    } catch (err) {
      if (err instanceof UnsupportedSourceError)
        throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [`url: ${err.message}`] });
      throw err;
    }
    try {
      await this.manager.add(camera);
    } catch (err) {
      if (err instanceof DuplicateCameraError) throw new ConflictException(err.message);
      throw err;
    }
    this.persist(withAdded(this.changes, camera));
    this.logger.info({ cameraId: camera.id, url: redactUrl(camera.url) }, 'camera added through the admin API');
    return this.manager.details(camera.id) as CameraDetails;
  }

  /** Removes a camera; resolves once its ffmpeg child has exited. 404 for an unknown id. */
  async removeCamera(cameraId: string): Promise<void> {
    if (!(await this.manager.remove(cameraId))) throw new NotFoundException(`camera "${cameraId}" does not exist`);
    this.persist(withRemoved(this.changes, cameraId, this.config.cameras));
    this.metrics.forget(cameraId);
    this.logger.info({ cameraId }, 'camera removed through the admin API');
  }

  cameras(): CameraStatus[] {
    return this.manager.list();
  }

  cameraDetails(): CameraDetails[] {
    return this.manager.listDetails();
  }

  /** The camera already runs; a failed write is logged loudly but does not undo the change. */
  private persist(next: RuntimeCameraChanges): void {
    this.changes = next;
    try {
      this.store.save(next);
    } catch (err) {
      this.logger.error(
        { path: this.store.path, err: redactText(String(err)) },
        'camera change applied but not saved: it will be lost on restart',
      );
    }
  }

  private async publishCrop(crop: FaceCrop): Promise<void> {
    await this.bus.publish(FACE_CROPS_TOPIC, crop);
    this.metrics.crop(crop.cameraId);
  }

  private publishStatus(status: CameraStatus): void {
    // Called from inside manager.add(), before the constructor's assignment is visible to it.
    const details = this.manager?.details(status.cameraId);
    this.metrics.status(status, details);
    this.bus.publish(CAMERA_STATUS_TOPIC, status).catch((err: unknown) => {
      this.logger.warn({ cameraId: status.cameraId, err: redactText(String(err)) }, 'camera status not published');
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.ready = false;
    await this.manager.stop();
  }
}
