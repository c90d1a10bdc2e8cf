import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  APP_CONFIG,
  CameraSourceError,
  ConfigError,
  checkMediaDir,
  redactText,
  redactUrl,
  type AppConfig,
  type CameraConfig,
  type CameraGeometry,
} from '@crowdlens/config';
import { MESSAGE_BUS, type MessageBus } from '@crowdlens/bus';
import {
  CAMERA_STATUS_TOPIC,
  FACE_CROPS_TOPIC,
  LINE_ZONE_EVENTS_TOPIC,
  TRACK_EVENTS_TOPIC,
  type CameraStatus,
  type FaceCrop,
  type TrackEvent,
} from '@crowdlens/contracts';
import { CLOCK, LOGGER, Readiness } from '@crowdlens/common';
import type { Clock } from '@crowdlens/runtime';
import {
  CameraLimitError,
  CameraManager,
  CameraManagerStoppedError,
  DuplicateCameraError,
  LiveFrames,
  inputFromUrl,
  UnsupportedSourceError,
  type CameraDetails,
} from '@crowdlens/vision';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { CameraShard } from './camera-shard';
import type { CameraGeometryDto } from '../dtos/camera-geometry.dto';
import { IngestMetrics } from './ingest-metrics';
import { RuntimeGeometryStore } from './runtime-geometry.store';
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
export class IngestService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly manager: CameraManager;
  private readonly store: RuntimeCamerasStore;
  private readonly shard: CameraShard;
  /** The config file's cameras this process reads: all of them, or its shard's share. */
  private readonly configCameras: readonly CameraConfig[];
  private changes: RuntimeCameraChanges = NO_CHANGES;
  private readonly geometryStore: RuntimeGeometryStore;
  /** Lines and zones set through the admin API, by camera: they replace the camera's config-file ones. */
  private editedGeometry = new Map<string, CameraGeometry>();
  private ready = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CLOCK) clock: Clock,
    private readonly metrics: IngestMetrics,
    liveFrames: LiveFrames,
  ) {
    this.manager = new CameraManager({
      logger: logger.child({ component: 'ingest' }),
      detector: config.detector,
      counting: config.counting,
      tracker: config.tracker,
      tracking: { minHits: config.tracker.minHits },
      motion: config.motion,
      cropSink: (crop) => this.publishCrop(crop),
      trackEventSink: (event) => this.publishTrackEvent(event),
      lineZoneSink: (event) => this.bus.publish(LINE_ZONE_EVENTS_TOPIC, event),
      liveFrames,
      statusSink: (status) => this.publishStatus(status),
      statusIntervalMs: 2_000,
      maxCameras: config.ingest.maxCameras,
      clock,
    });
    this.shard = config.ingest.shard ? new CameraShard(config.ingest.shard) : CameraShard.WHOLE;
    this.configCameras = config.cameras.filter((c) => this.shard.owns(c.id));
    // One file per shard: processes started from one config may share a dataDir.
    const file = this.shard.sharded ? `cameras.shard-${this.shard.index}.json` : 'cameras.json';
    this.store = new RuntimeCamerasStore(join(config.dataDir, file));
    this.geometryStore = new RuntimeGeometryStore(join(config.dataDir, file.replace('cameras', 'geometry')));
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
    const geometry = this.geometryStore.load();
    if (geometry.quarantined) {
      this.logger.error(
        { path: geometry.quarantined.path, reason: geometry.quarantined.reason },
        'lines and zones edited at runtime could not be read; the file was moved aside and the config file alone applies',
      );
    }
    this.editedGeometry = new Map(geometry.cameras);
    const { cameras, shadowed } = effectiveCameras(this.configCameras, this.changes);
    if (this.shard.sharded) {
      this.logger.info(
        {
          shard: this.shard.describe(),
          cameraIds: this.configCameras.map((c) => c.id),
          configured: this.config.cameras.length,
        },
        `ingest ${this.shard.describe()}: reading ${this.configCameras.length} of the ${this.config.cameras.length} configured cameras`,
      );
      // Added here when the count was different: they stay here (no other process has them in its file).
      const moved = this.changes.added.filter((c) => !this.shard.owns(c.id)).map((c) => c.id);
      if (moved.length > 0)
        this.logger.warn(
          { cameraIds: moved, shard: this.shard.describe() },
          'cameras added at runtime to this shard now hash to another one (the shard count changed): this process keeps reading them',
        );
    }
    this.refuseTooManyCameras(cameras.length);
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
    for (const camera of cameras) await this.manager.add(this.withEditedGeometry(camera));
    this.ready = true;
  }

  /**
   * Adds a camera at runtime (admin API). 409 for a taken id or one another
   * shard owns (so two shards can never both add it), 400 for a URL scheme
   * ffmpeg is not given or a file outside ingest.mediaDir.
   */
  async addCamera(camera: CameraConfig): Promise<CameraDetails> {
    const owner = this.shard.ownerOf(camera.id);
    if (owner !== this.shard.index && !this.manager.details(camera.id))
      throw new ConflictException(
        `camera "${camera.id}" belongs to ingest ${this.shard.describe(owner)}, not to this process (${this.shard.describe()}): add it through that one`,
      );
    try {
      const input = inputFromUrl(camera.url, camera, redactUrl(camera.url));
      if (input.kind === 'file') checkMediaDir({ kind: 'file', path: input.path }, this.config.ingest.mediaDir);
    } catch (err) {
      if (err instanceof UnsupportedSourceError || err instanceof CameraSourceError)
        throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [`url: ${err.message}`] });
      throw err;
    }
    try {
      await this.manager.add(this.withEditedGeometry(camera));
    } catch (err) {
      if (err instanceof DuplicateCameraError || err instanceof CameraLimitError)
        throw new ConflictException(err.message);
      if (err instanceof CameraManagerStoppedError) throw new ServiceUnavailableException(err.message);
      throw err;
    }
    this.persist(withAdded(this.changes, camera));
    this.logger.info({ cameraId: camera.id, url: redactUrl(camera.url) }, 'camera added through the admin API');
    return this.manager.details(camera.id) as CameraDetails;
  }

  /** Removes a camera; resolves once its ffmpeg child has exited. 404 for an unknown id. */
  async removeCamera(cameraId: string): Promise<void> {
    if (!(await this.manager.remove(cameraId))) {
      const owner = this.shard.ownerOf(cameraId);
      if (owner !== this.shard.index)
        throw new NotFoundException(
          `camera "${cameraId}" is not read by this process (${this.shard.describe()}); it would belong to ingest ${this.shard.describe(owner)}`,
        );
      throw new NotFoundException(`camera "${cameraId}" does not exist`);
    }
    this.persist(withRemoved(this.changes, cameraId, this.configCameras));
    // A camera added again later under this id starts from its own lines and zones.
    if (this.editedGeometry.delete(cameraId)) this.persistGeometry();
    this.metrics.forget(cameraId);
    this.logger.info({ cameraId }, 'camera removed through the admin API');
  }

  /** The camera's lines and zones now in force. 404 for a camera this process does not read. */
  geometry(cameraId: string): CameraGeometryDto {
    const geometry = this.manager.geometry(cameraId);
    if (!geometry) throw this.unknownCamera(cameraId);
    return { cameraId, source: this.editedGeometry.has(cameraId) ? 'admin' : 'config', ...geometry };
  }

  /** Replaces the camera's lines and zones from its next analysed frame, and saves them. */
  setGeometry(cameraId: string, geometry: CameraGeometry): CameraGeometryDto {
    if (!this.manager.setGeometry(cameraId, geometry)) throw this.unknownCamera(cameraId);
    this.editedGeometry.set(cameraId, geometry);
    this.persistGeometry();
    return this.geometry(cameraId);
  }

  cameras(): CameraStatus[] {
    return this.manager.list();
  }

  /** Which share of the config's cameras this process reads (0/1 when not sharded). */
  shardInfo(): { index: number; count: number } {
    return { index: this.shard.index, count: this.shard.count };
  }

  cameraDetails(): CameraDetails[] {
    return this.manager.listDetails();
  }

  /**
   * The config file's share of this process plus the cameras added at runtime, against
   * ingest.maxCameras: the config check can only judge a sharded list's total, and a limit lowered
   * since cameras were added at runtime is found here, before any camera starts.
   */
  private refuseTooManyCameras(count: number): void {
    const limit = this.config.ingest.maxCameras;
    if (count <= limit) return;
    const parts = [
      `${this.configCameras.length} from the config file${this.shard.sharded ? ` (${this.shard.describe()})` : ''}`,
    ];
    if (this.changes.added.length > 0) parts.push(`${this.changes.added.length} added at runtime (${this.store.path})`);
    const issue = `ingest.maxCameras: this ingest process would read ${count} cameras (${parts.join(', ')}), more than ingest.maxCameras = ${limit}`;
    throw new ConfigError(
      `${issue}. Raise ingest.maxCameras if the machine has room (docs/ingest.md), split the cameras across more ingest processes (ingest.shard), or remove cameras.`,
      [issue],
    );
  }

  private withEditedGeometry(camera: CameraConfig): CameraConfig {
    const edited = this.editedGeometry.get(camera.id);
    return edited ? { ...camera, lines: edited.lines, zones: edited.zones } : camera;
  }

  private unknownCamera(cameraId: string): NotFoundException {
    const owner = this.shard.ownerOf(cameraId);
    return new NotFoundException(
      owner !== this.shard.index
        ? `camera "${cameraId}" is not read by this process (${this.shard.describe()}); it would belong to ingest ${this.shard.describe(owner)}`
        : `camera "${cameraId}" does not exist`,
    );
  }

  /** The lines and zones already apply; a failed write is logged loudly but does not undo them. */
  private persistGeometry(): void {
    try {
      this.geometryStore.save(this.editedGeometry);
    } catch (err) {
      this.logger.error(
        { path: this.geometryStore.path, err: String(err) },
        'lines and zones changed but not saved: the change will be lost on restart',
      );
    }
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

  private async publishTrackEvent(event: TrackEvent): Promise<void> {
    await this.bus.publish(TRACK_EVENTS_TOPIC, event);
  }

  private publishStatus(status: CameraStatus): void {
    // Called from inside manager.add(), before the constructor's assignment is visible to it.
    const details = this.manager?.details(status.cameraId);
    this.metrics.status(status, details);
    this.bus.publish(CAMERA_STATUS_TOPIC, status).catch((err: unknown) => {
      this.logger.warn({ cameraId: status.cameraId, err: redactText(String(err)) }, 'camera status not published');
    });
  }

  /**
   * Cameras stop first, in Nest's first shutdown phase (module destroy), so that the people still in
   * view are ended (track events) and their last crops sent while every consumer still listens: in the
   * embedded mode analytics shuts down in the next phase (before-shutdown) of the same process.
   */
  async onModuleDestroy(): Promise<void> {
    this.ready = false;
    await this.manager.stop();
  }
}
