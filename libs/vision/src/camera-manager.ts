import {
  redactUrl,
  type CameraConfig,
  type CameraGeometry,
  type CountingConfig,
  type DetectorConfig,
  type TrackerConfig,
} from '@crowdlens/config';
import {
  CAMERA_STATUS_SCHEMA_VERSION,
  type CameraState,
  type CameraStatus,
  type FaceCrop,
  type LineZoneEvent,
  type TrackEvent,
} from '@crowdlens/contracts';
import type { Logger } from '@crowdlens/runtime';
import { SYSTEM_CLOCK, type Clock } from '@crowdlens/runtime/clock';
import type { BackoffOptions } from '@crowdlens/runtime/backoff';
import { CameraSupervisor } from './capture/camera-supervisor';
import { FfmpegFrameSource } from './capture/ffmpeg-frame-source';
import type { FrameSource } from './capture/frame-source.port';
import { FaceCropper } from './crop/face-cropper';
import { createSceneDetector } from './detection/create-scene-detector';
import type { FaceDetectOptions } from './detection/face-detector.port';
import type { SceneDetector } from './detection/scene-detector.port';
import { inputFromUrl } from './ffmpeg/ffmpeg-args';
import { locateFfmpeg, type FfmpegBinary } from './ffmpeg/ffmpeg-locator';
import { CameraPipeline, type CameraPipelineOptions, type CountingOptions } from './pipeline/camera-pipeline';
import { CameraStats } from './pipeline/camera-stats';
import type { MotionGateOptions } from './pipeline/motion-gate';
import type { IouTrackerOptions } from './tracking/iou-tracker';
import type { LiveFrames } from './live/live-frames';

export interface CameraManagerOptions {
  readonly logger: Logger;
  readonly detector: DetectorConfig;
  /** What a visitor is (people or faces), the gender face floor, heartbeats, the person detector. */
  readonly counting: CountingConfig;
  readonly tracker: TrackerConfig;
  /**
   * Tracker settings the config file does not carry. Default: a track is
   * confirmed (and cropped) after 2 consecutive detections.
   */
  readonly tracking?: Omit<IouTrackerOptions, 'iouThreshold' | 'maxAgeMs'>;
  /** Motion gating (skip detection on unchanged frames); default on, see MotionGate. */
  readonly motion?: Partial<MotionGateOptions>;
  /** Receives every selected face crop; a slow sink slows analysis, never capture. */
  readonly cropSink: (crop: FaceCrop) => Promise<void>;
  /** Receives every track's lifecycle (started, heartbeats, ended), in order per camera. */
  readonly trackEventSink: (event: TrackEvent) => Promise<void>;
  /** Receives line crossings and zone entries/exits, in order per camera; unset = lines and zones are not evaluated. */
  readonly lineZoneSink?: (event: LineZoneEvent) => Promise<void>;
  /** Keeps each camera's latest analysed frame for the live view (memory only); unset = none kept. */
  readonly liveFrames?: LiveFrames;
  /** Receives a status on every state change and, while streaming, every `statusIntervalMs`. */
  readonly statusSink: (status: CameraStatus) => void;
  /** Periodic status while a camera runs (counters, fps); 0 = state changes only. */
  readonly statusIntervalMs?: number;
  /** Inject a detector (tests, custom backends); default built from the `detector` and `counting` config. */
  readonly sceneDetector?: SceneDetector;
  /** Default: locateFfmpeg() on first use. */
  readonly ffmpeg?: FfmpegBinary;
  /** Capture tuning, mostly for tests. */
  readonly capture?: {
    readonly backoff?: Partial<BackoffOptions>;
    readonly ioTimeoutMs?: number;
    readonly stallTimeoutMs?: number;
    readonly connectTimeoutMs?: number;
    readonly maxRetries?: number;
  };
  /** Replace the ffmpeg source (tests). */
  readonly createSource?: (camera: CameraConfig, logger: Logger) => FrameSource;
  /** Wall clock for what is reported, monotonic for tracking, stalls and rates. Default: the system's. */
  readonly clock?: Clock;
  /** Most cameras at once (ingest.maxCameras); `add` refuses more with a CameraLimitError. Default: no limit. */
  readonly maxCameras?: number;
}

interface ManagedCamera {
  readonly config: CameraConfig;
  readonly supervisor: CameraSupervisor;
  readonly pipeline: CameraPipeline;
  readonly stats: CameraStats;
  readonly logger: Logger;
  /** Lines and zones now: the config's, or the admin API's latest. */
  geometry: CameraGeometry;
  heartbeat: NodeJS.Timeout | null;
}

/** A camera's status plus what only this process knows (not part of the camera-status contract). */
export interface CameraDetails extends CameraStatus {
  /** Frames not sent to detection because nothing moved. */
  readonly framesSkipped: number;
  readonly cropsEmitted: number;
  /** Mean detection latency, ms (worker queue wait included). */
  readonly detectMsMean: number;
  /** Faces detected over the last minute. */
  readonly facesPerMinute: number;
  /** People found by the person detector (counting unit people), since the camera was added. */
  readonly peopleDetected: number;
  /** Faces on a track too small to classify (below counting.minGenderFacePx). */
  readonly facesBelowFloor: number;
}

/** Default SORT min hits: a face must be detected on two frames in a row to become a track. */
export const DEFAULT_MIN_HITS = 2;

export class DuplicateCameraError extends Error {
  constructor(readonly cameraId: string) {
    super(`camera "${cameraId}" already exists`);
    this.name = 'DuplicateCameraError';
  }
}

/** The manager is stopping or stopped (process shutdown): no camera may start any more. */
export class CameraManagerStoppedError extends Error {
  constructor(readonly cameraId: string) {
    super(`camera "${cameraId}" not added: ingest is shutting down`);
    this.name = 'CameraManagerStoppedError';
  }
}

/** `add` past `maxCameras`. */
export class CameraLimitError extends Error {
  constructor(
    readonly cameraId: string,
    readonly limit: number,
  ) {
    super(
      `camera "${cameraId}" not added: this ingest process already reads ${limit} cameras, its limit (ingest.maxCameras = ${limit}); ` +
        'remove one, raise ingest.maxCameras if the machine has room, or add it to another ingest process (ingest.shard)',
    );
    this.name = 'CameraLimitError';
  }
}

/**
 * The cameras of one ingest process: add and remove at runtime, one
 * supervisor (capture) and one pipeline (detect, track, crop) each, all
 * sharing one face detector. Statuses leave here redacted.
 */
export class CameraManager {
  private readonly cameras = new Map<string, ManagedCamera>();
  /** Ids whose `add` waits for the detector: they hold their place against duplicates and the limit. */
  private readonly adding = new Set<string>();
  private detector: SceneDetector | null = null;
  private detectorReady: Promise<SceneDetector> | null = null;
  private readonly cropper = new FaceCropper();
  private stopped = false;
  private readonly clock: Clock;

  constructor(private readonly opts: CameraManagerOptions) {
    this.clock = opts.clock ?? SYSTEM_CLOCK;
  }

  /** Loads the detector (models, worker threads). Optional: `add` does it on first use. */
  async start(): Promise<void> {
    await this.ensureDetector();
  }

  async add(camera: CameraConfig): Promise<CameraStatus> {
    if (this.stopped) throw new CameraManagerStoppedError(camera.id);
    if (this.cameras.has(camera.id) || this.adding.has(camera.id)) throw new DuplicateCameraError(camera.id);
    const limit = this.opts.maxCameras ?? Number.POSITIVE_INFINITY;
    if (this.cameras.size + this.adding.size >= limit) throw new CameraLimitError(camera.id, limit);
    this.adding.add(camera.id);
    let detector: SceneDetector;
    try {
      detector = await this.ensureDetector();
    } finally {
      this.adding.delete(camera.id);
    }
    // stop() may have run during that await (even an already loaded detector costs a tick): a camera
    // started now would outlive the manager, its ffmpeg child with it.
    if (this.stopped) throw new CameraManagerStoppedError(camera.id);

    const logger = this.opts.logger.child({ cameraId: camera.id });
    const stats = new CameraStats();
    const isFile = isFileUrl(camera.url);
    const cap = this.opts.capture ?? {};
    let supervisor: CameraSupervisor | null = null;
    const lineZoneSink = this.opts.lineZoneSink;
    const pipeline = new CameraPipeline({
      cameraId: camera.id,
      detector,
      ...faceOptionsOf(camera),
      counting: this.countingOptions(),
      cropper: this.cropper,
      ...this.trackerSettings(),
      ...(this.opts.motion ? { motion: this.opts.motion } : {}),
      cropSink: this.opts.cropSink,
      trackEventSink: this.opts.trackEventSink,
      ...(lineZoneSink ? { lineZones: { geometry: () => managed.geometry, sink: lineZoneSink } } : {}),
      ...(this.opts.liveFrames ? { onAnalysed: (live) => this.opts.liveFrames?.update(camera.id, live) } : {}),
      stats,
      logger,
      clock: this.clock,
      overflow: isFile && !camera.realtime ? 'backpressure' : 'drop-oldest',
      onBackpressure: (paused) => (paused ? supervisor?.pause() : supervisor?.resume()),
      onDetectHealth: () => {
        const managed = this.cameras.get(camera.id);
        if (managed) this.opts.statusSink(this.statusOf(managed));
      },
    });
    supervisor = new CameraSupervisor({
      cameraId: camera.id,
      logger,
      isFile,
      createSource: () => {
        // A new ffmpeg run: tracks cannot continue across the gap.
        pipeline.startRun();
        return this.opts.createSource ? this.opts.createSource(camera, logger) : this.ffmpegSource(camera, logger);
      },
      onFrame: (frame) => pipeline.push(frame),
      onStateChange: (state) => this.onStateChange(camera.id, state),
      clock: this.clock,
      // A stall is judged against the frame interval: a 0.1 fps camera is not stalled after 5 s.
      stallTimeoutMs: Math.max(cap.stallTimeoutMs ?? 10_000, 3000 / camera.fps),
      ...(cap.backoff ? { backoff: cap.backoff } : {}),
      ...(cap.connectTimeoutMs !== undefined ? { connectTimeoutMs: cap.connectTimeoutMs } : {}),
      ...(cap.maxRetries !== undefined ? { maxRetries: cap.maxRetries } : {}),
    });
    const managed: ManagedCamera = {
      config: camera,
      supervisor,
      pipeline,
      stats,
      logger,
      geometry: { lines: camera.lines, zones: camera.zones },
      heartbeat: null,
    };
    this.cameras.set(camera.id, managed);
    logger.info({ url: redactUrl(camera.url), fps: camera.fps, width: camera.width }, 'camera added');
    supervisor.start();
    return this.statusOf(managed);
  }

  /** Stops the camera's ffmpeg and pipeline; false if there was no such camera. */
  async remove(cameraId: string): Promise<boolean> {
    const managed = this.cameras.get(cameraId);
    if (!managed) return false;
    this.cameras.delete(cameraId);
    await this.shutdown(managed);
    this.opts.liveFrames?.remove(cameraId);
    managed.logger.info('camera removed');
    return true;
  }

  /** The camera's lines and zones now; undefined for an unknown camera. */
  geometry(cameraId: string): CameraGeometry | undefined {
    return this.cameras.get(cameraId)?.geometry;
  }

  /** Replaces the camera's lines and zones; applies from its next analysed frame. False for an unknown camera. */
  setGeometry(cameraId: string, geometry: CameraGeometry): boolean {
    const managed = this.cameras.get(cameraId);
    if (!managed) return false;
    managed.geometry = geometry;
    managed.logger.info(
      { lines: geometry.lines.map((l) => l.name), zones: geometry.zones.map((z) => z.name) },
      'lines and zones changed',
    );
    return true;
  }

  list(): CameraStatus[] {
    return [...this.cameras.values()].map((m) => this.statusOf(m));
  }

  get(cameraId: string): CameraStatus | undefined {
    const managed = this.cameras.get(cameraId);
    return managed ? this.statusOf(managed) : undefined;
  }

  /** Status plus process-local counters (skipped frames, detection latency, faces/min). Redacted like the status. */
  details(cameraId: string): CameraDetails | undefined {
    const managed = this.cameras.get(cameraId);
    return managed ? this.detailsOf(managed) : undefined;
  }

  listDetails(): CameraDetails[] {
    return [...this.cameras.values()].map((m) => this.detailsOf(m));
  }

  private detailsOf(m: ManagedCamera): CameraDetails {
    const now = this.clock.monotonicMs();
    return {
      ...this.statusOf(m),
      framesSkipped: m.stats.framesSkipped,
      cropsEmitted: m.stats.cropsEmitted,
      detectMsMean: Math.round(m.stats.detectMsMean * 10) / 10,
      facesPerMinute: m.stats.facesPerMinute(now),
      peopleDetected: m.stats.peopleDetected,
      facesBelowFloor: m.stats.facesBelowFloor,
    };
  }

  /** Stops every camera (every ffmpeg child is gone when this resolves) and the detector. */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.cameras.values()];
    this.cameras.clear();
    await Promise.all(all.map((m) => this.shutdown(m)));
    const detector = this.detector ?? (await this.detectorReady?.catch(() => null)) ?? null;
    await detector?.close();
    this.detector = null;
  }

  private async shutdown(managed: ManagedCamera): Promise<void> {
    if (managed.heartbeat) clearInterval(managed.heartbeat);
    managed.heartbeat = null;
    await managed.supervisor.stop();
    await managed.pipeline.stop();
    this.opts.statusSink(this.statusOf(managed));
  }

  private countingOptions(): CountingOptions {
    const { counting } = this.opts;
    return {
      unit: counting.unit === 'people' ? 'person' : 'face',
      minGenderFacePx: counting.minGenderFacePx,
      heartbeatMs: counting.heartbeatMs,
      minVisitorMs: counting.minVisitorMs,
    };
  }

  /** People are tracked with their own max age and re-association reach; faces with `tracker`. */
  private trackerSettings(): Pick<CameraPipelineOptions, 'tracker' | 'tracking'> {
    const { counting, tracker } = this.opts;
    const tracking = { minHits: DEFAULT_MIN_HITS, ...this.opts.tracking };
    if (counting.unit !== 'people') return { tracker, tracking };
    return {
      tracker: { ...tracker, maxAgeMs: counting.personTracker.maxAgeMs },
      tracking: { ...tracking, reassociateDistance: counting.personTracker.reassociateDistance },
    };
  }

  private ensureDetector(): Promise<SceneDetector> {
    this.detectorReady ??= (async () => {
      const { counting } = this.opts;
      const detector =
        this.opts.sceneDetector ??
        createSceneDetector(
          { faces: this.opts.detector, people: counting.unit === 'people' ? counting.personDetector : null },
          this.opts.logger,
        );
      await detector.load();
      if (detector.fallbackReason) {
        this.opts.logger.warn(
          { requested: this.opts.detector.executionProvider, using: detector.backend, reason: detector.fallbackReason },
          `face detector: execution provider "${this.opts.detector.executionProvider}" is unavailable, falling back to CPU`,
        );
      }
      this.detector = detector;
      return detector;
    })().catch((err: unknown) => {
      this.detectorReady = null;
      throw err;
    });
    return this.detectorReady;
  }

  private ffmpegSource(camera: CameraConfig, logger: Logger): FrameSource {
    const binary = this.opts.ffmpeg ?? locateFfmpeg();
    const cap = this.opts.capture ?? {};
    return new FfmpegFrameSource({
      binary,
      input: inputFromUrl(camera.url, { realtime: camera.realtime, loop: camera.loop }, redactUrl(camera.url)),
      fps: camera.fps,
      width: camera.width,
      logger,
      clock: this.clock,
      ...(camera.hwaccel ? { hwaccel: camera.hwaccel } : {}),
      ...(camera.decodeThreads ? { decodeThreads: camera.decodeThreads } : {}),
      ...(cap.ioTimeoutMs !== undefined ? { ioTimeoutMs: cap.ioTimeoutMs } : {}),
    });
  }

  private onStateChange(cameraId: string, state: CameraState): void {
    const managed = this.cameras.get(cameraId);
    if (!managed) return; // removed: shutdown() publishes the final status
    const interval = this.opts.statusIntervalMs ?? 5000;
    if (state === 'streaming' && interval > 0 && !managed.heartbeat) {
      managed.heartbeat = setInterval(() => this.opts.statusSink(this.statusOf(managed)), interval);
      managed.heartbeat.unref();
    } else if (state !== 'streaming' && managed.heartbeat) {
      clearInterval(managed.heartbeat);
      managed.heartbeat = null;
    }
    if (state === 'stopped') {
      // A file ended: its last frames are still in the pipeline. End the
      // people still in view and publish the final counters once they are analysed.
      void managed.pipeline
        .idle()
        .then(() => managed.pipeline.finishRun('stream-lost'))
        .then(() => {
          if (this.cameras.get(cameraId) === managed) this.opts.statusSink(this.statusOf(managed));
        });
      return;
    }
    // The stream is gone (retrying or given up): whoever was in view is not seen any more.
    if (state === 'backoff' || state === 'failed') void managed.pipeline.finishRun('stream-lost');
    this.opts.statusSink(this.statusOf(managed));
  }

  private statusOf(m: ManagedCamera): CameraStatus {
    const now = this.clock.monotonicMs();
    const status: CameraStatus = {
      schemaVersion: CAMERA_STATUS_SCHEMA_VERSION,
      cameraId: m.config.id,
      name: m.config.name ?? m.config.id,
      url: redactUrl(m.config.url),
      state: m.supervisor.state,
      // A capture error first; otherwise a detector that fails (or hangs past its deadline) while frames still arrive.
      lastError: m.supervisor.lastError ?? m.stats.lastDetectError,
      fps: m.stats.fps(now),
      framesIn: m.supervisor.framesIn,
      framesAnalysed: m.stats.framesAnalysed,
      framesDropped: m.stats.framesDropped,
      framesSkipped: m.stats.framesSkipped,
      facesDetected: m.stats.facesDetected,
      detectMsRecent: Math.round(m.stats.detectMsRecent * 10) / 10,
      tracks: m.stats.tracks,
      reconnects: m.supervisor.reconnects,
      updatedAt: this.clock.now(),
    };
    if (m.config.group !== undefined) status.group = m.config.group;
    return status;
  }
}

function isFileUrl(url: string): boolean {
  try {
    return inputFromUrl(url, { realtime: false, loop: false }, '').kind === 'file';
  } catch {
    return false; // unsupported scheme: the supervisor reports it when the run starts
  }
}

/** The camera's own face detector settings, if it has any (`detectorInputSize`, `detectorMinScore`). */
function faceOptionsOf(camera: CameraConfig): { faceOptions?: FaceDetectOptions } {
  const face: { inputSize?: number; minScore?: number } = {};
  if (camera.detectorInputSize !== undefined) face.inputSize = camera.detectorInputSize;
  if (camera.detectorMinScore !== undefined) face.minScore = camera.detectorMinScore;
  return Object.keys(face).length > 0 ? { faceOptions: face } : {};
}
