import { randomUUID } from 'node:crypto';
import type { CameraGeometry, TrackerConfig } from '@crowdlens/config';
import {
  FACE_CROP_SCHEMA_VERSION,
  type FaceCrop,
  type LineZoneEvent,
  type TrackEndReason,
  type TrackEvent,
  type TrackUnit,
} from '@crowdlens/contracts';
import type { Logger } from '@crowdlens/runtime';
import { SYSTEM_CLOCK, type Clock } from '@crowdlens/runtime/clock';
import { BestCropSelector } from '../crop/best-crop-selector';
import type { FaceCropper } from '../crop/face-cropper';
import type { FaceDetectOptions } from '../detection/face-detector.port';
import type { SceneDetections, SceneDetector } from '../detection/scene-detector.port';
import type { Frame } from '../frame';
import { LineZoneMonitor } from '../geometry/line-zone-monitor';
import type { LiveFrame } from '../live/live-frames';
import { attachFaces, type CountedSubject } from '../tracking/face-person-matcher';
import { IouTracker, type IouTrackerOptions } from '../tracking/iou-tracker';
import { TrackLifecycle } from '../tracking/track-lifecycle';
import type { CameraStats } from './camera-stats';
import { DropOldestQueue } from './frame-queue';
import { MotionGate, type MotionGateOptions } from './motion-gate';
import { ViewChangeDetector } from './view-change-detector';

export type CropSink = (crop: FaceCrop) => Promise<void>;
export type TrackEventSink = (event: TrackEvent) => Promise<void>;
export type LineZoneEventSink = (event: LineZoneEvent) => Promise<void>;

/** How visitors are counted: see CountingConfig. */
export interface CountingOptions {
  readonly unit: TrackUnit;
  /** Faces smaller than this (px) are not classified; their person stays unknown. */
  readonly minGenderFacePx: number;
  readonly heartbeatMs: number;
  /** A track becomes a visitor once in view this long (default 0). */
  readonly minVisitorMs?: number;
}

/**
 * `drop-oldest`: live cameras (and real-time files) never wait for detection.
 * `backpressure`: a file decoded faster than real time is a batch job; the
 * source is paused instead, so every sampled frame gets analysed.
 */
export type OverflowPolicy = 'drop-oldest' | 'backpressure';

export interface CameraPipelineOptions {
  readonly cameraId: string;
  /** Faces, and people when `counting.unit` is person (the detector must then detect people). */
  readonly detector: SceneDetector;
  /** This camera's face detector settings (camera `detectorInputSize`, `detectorMinScore`); absent: the detector's own. */
  readonly faceOptions?: FaceDetectOptions;
  readonly counting: CountingOptions;
  readonly cropper: FaceCropper;
  readonly tracker: TrackerConfig;
  /** Tracker settings beyond the config file's (SORT min hits, re-association). */
  readonly tracking?: Omit<IouTrackerOptions, 'iouThreshold' | 'maxAgeMs'>;
  /** Skip detection on frames where nothing changed; default on (see MotionGate). */
  readonly motion?: Partial<MotionGateOptions>;
  readonly cropSink: CropSink;
  readonly trackEventSink: TrackEventSink;
  /** The camera's lines and zones now (an edit applies from the next frame), and where their events go. */
  readonly lineZones?: { readonly geometry: () => CameraGeometry; readonly sink: LineZoneEventSink };
  /** Receives every analysed frame with its tracked people and faces (the live view keeps the latest). */
  readonly onAnalysed?: (live: LiveFrame) => void;
  readonly stats: CameraStats;
  /** Logger bound to the camera. */
  readonly logger: Logger;
  readonly overflow: OverflowPolicy;
  /** Called with true to pause the source and false to resume it (backpressure policy only). */
  readonly onBackpressure?: (paused: boolean) => void;
  readonly queueCapacity?: number;
  /** Wall clock for `emittedAt`; monotonic for the per-camera rates (fps, faces per minute). */
  readonly clock?: Clock;
  /** Detection started failing or works again (stats.lastDetectError changed): the camera's status should say so now. */
  readonly onDetectHealth?: () => void;
}

/** State that lives for one capture run: a reconnect starts fresh ids. */
interface RunContext {
  readonly tracker: IouTracker;
  readonly lifecycle: TrackLifecycle;
  readonly selector: BestCropSelector;
  readonly gate: MotionGate;
  readonly viewChanges: ViewChangeDetector;
  readonly lineZones: LineZoneMonitor | null;
  /** Monotonic time of the newest frame skipped by the gate; applied to the tracker in frame order. */
  lastSkippedMono: number;
}

interface QueuedFrame {
  readonly frame: Frame;
  readonly run: RunContext;
}

/**
 * detect -> track -> crop -> sink for one camera. Up to `detector.concurrency`
 * frames are detected at once (worker pool); their results are tracked and
 * cropped strictly in frame order, because the tracker needs ordered time.
 */
export class CameraPipeline {
  private readonly queue: DropOldestQueue<QueuedFrame>;
  private run: RunContext;
  private inFlight = 0;
  /** Ordered post-detection work; each link waits for the previous frame's. */
  private chain: Promise<void> = Promise.resolve();
  private paused = false;
  private stopped = false;
  private readonly clock: Clock;

  constructor(private readonly opts: CameraPipelineOptions) {
    if (opts.counting.unit === 'person' && !opts.detector.detectsPeople)
      throw new Error('counting people needs a detector that detects people (counting.unit is person)');
    this.queue = new DropOldestQueue(opts.queueCapacity ?? 2);
    this.clock = opts.clock ?? SYSTEM_CLOCK;
    this.run = this.newRun();
  }

  /** A new capture run: tracks of the previous one cannot continue across a reconnect. */
  startRun(): void {
    // Fire and forget, in order: the close is queued on the chain that stop() awaits, and emit
    // catches and counts its own delivery errors, so this promise cannot reject.
    void this.finishRun('stream-lost');
    this.run = this.newRun();
  }

  /**
   * The stream ended or dropped: the current run's open tracks end now, after
   * the frames already in flight (their people were there until then).
   */
  finishRun(reason: Extract<TrackEndReason, 'shutdown' | 'stream-lost'>): Promise<void> {
    const { lifecycle, lineZones } = this.run;
    this.chain = this.chain.then(async () => {
      await this.emit(lifecycle.closeAll(reason));
      await this.emitLineZones(lineZones?.endAll() ?? []);
    });
    return this.chain;
  }

  get queued(): number {
    return this.queue.size;
  }

  push(frame: Frame): void {
    if (this.stopped) return;
    const run = this.run;
    // Decided here, in capture order, before the frame's buffer can be lent to a detector worker.
    if (!run.gate.shouldAnalyse(frame)) {
      this.opts.stats.framesSkipped++;
      run.lastSkippedMono = frame.monoTs;
      return;
    }
    if (this.opts.overflow === 'backpressure') {
      // The source is paused once the queue is full; the few frames already read still fit.
      this.queue.append({ frame, run: this.run });
    } else if (this.queue.push({ frame, run: this.run })) {
      this.opts.stats.framesDropped++;
    }
    this.pump();
  }

  /** Resolves once every frame pushed so far has been analysed (or dropped). */
  async idle(): Promise<void> {
    while (this.queue.size > 0 || this.inFlight > 0) await this.chain;
  }

  /** Stops accepting frames, waits for the ones in flight (their crops still go out), then ends the open tracks. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.stats.framesDropped += this.queue.clear().length;
    await this.chain;
    await this.finishRun('shutdown');
  }

  private newRun(): RunContext {
    const runId = randomUUID().slice(0, 8);
    return {
      tracker: new IouTracker({ ...this.opts.tracking, ...this.opts.tracker }, `${this.opts.cameraId}-${runId}`),
      lifecycle: new TrackLifecycle({
        cameraId: this.opts.cameraId,
        unit: this.opts.counting.unit,
        heartbeatMs: this.opts.counting.heartbeatMs,
        minVisitorMs: this.opts.counting.minVisitorMs ?? 0,
        now: () => this.clock.now(),
      }),
      selector: new BestCropSelector(this.opts.tracker.cropsPerTrack),
      gate: new MotionGate(this.opts.motion),
      viewChanges: new ViewChangeDetector(),
      lineZones: this.opts.lineZones
        ? new LineZoneMonitor({
            cameraId: this.opts.cameraId,
            geometry: this.opts.lineZones.geometry,
            now: () => this.clock.now(),
          })
        : null,
      lastSkippedMono: Number.NEGATIVE_INFINITY,
    };
  }

  private pump(): void {
    while (this.inFlight < this.opts.detector.concurrency) {
      const item = this.queue.shift();
      if (!item) break;
      this.inFlight++;
      const startedAt = performance.now();
      const detection = this.opts.detector.detect(item.frame, this.opts.faceOptions).then(
        (found: SceneDetections) => {
          this.opts.stats.markDetected(performance.now() - startedAt);
          this.setDetectError(null);
          return { ok: true as const, found };
        },
        (err: unknown) => ({ ok: false as const, err }),
      );
      this.chain = this.chain
        .then(async () => {
          const result = await detection;
          if (result.ok) await this.process(item, result.found);
          else this.onDetectError(result.err);
        })
        .catch((err: unknown) => this.opts.logger.error({ err }, 'camera pipeline stage failed'))
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
    this.updateBackpressure();
  }

  private updateBackpressure(): void {
    if (this.opts.overflow !== 'backpressure') return;
    // Pause while every detector slot is busy and the queue is full; resume once there is room.
    const shouldPause = this.queue.full && !this.stopped;
    if (shouldPause !== this.paused) {
      this.paused = shouldPause;
      this.opts.onBackpressure?.(shouldPause);
    }
  }

  private onDetectError(err: unknown): void {
    this.opts.stats.detectErrors++;
    this.opts.stats.framesDropped++;
    this.opts.logger.warn({ err }, 'detection failed; frame skipped');
    this.setDetectError(`detection failed: ${err instanceof Error ? err.message : String(err)}`);
  }

  private setDetectError(error: string | null): void {
    if (this.opts.stats.lastDetectError === error) return;
    this.opts.stats.lastDetectError = error;
    this.opts.onDetectHealth?.();
  }

  private async process({ frame, run }: QueuedFrame, found: SceneDetections): Promise<void> {
    const { stats, counting } = this.opts;
    const now = this.clock.monotonicMs();
    stats.markAnalysed(now);
    stats.markFaces(now, found.faces.length);
    stats.peopleDetected += found.people.length;
    if (run.viewChanges.isCut(frame)) {
      // Nobody seen before a cut can be followed after it: end them all and start matching afresh.
      for (const id of run.tracker.reset()) run.selector.end(id);
      stats.viewChanges++;
      await this.emit(run.lifecycle.endAll('view-changed'));
      await this.emitLineZones(run.lineZones?.endAll() ?? []);
    }
    // Frames skipped since the previous analysed one: nothing moved, so the
    // tracks seen then are still there (kept alive, not aged out).
    if (run.lastSkippedMono > run.tracker.lastFrameTs && run.lastSkippedMono < frame.monoTs)
      run.tracker.coast(run.lastSkippedMono);
    const subjects: CountedSubject[] =
      counting.unit === 'person'
        ? attachFaces(found.people, found.faces, frame)
        : found.faces.map((f) => ({ box: f.box, score: f.score, face: f, fromFace: false }));
    // Monotonic time: a wall-clock step back must not look like frames out of order.
    const update = run.tracker.update(subjects, frame.monoTs);
    for (const id of update.ended) run.selector.end(id);
    const tracked = update.faces.map((t) => ({ t, face: (subjects[t.detectionIndex] as CountedSubject).face }));
    // Lifecycle first: a track's started event goes out before its crops, so
    // analytics usually learns of the person before their predictions.
    await this.emit([
      ...run.lifecycle.ended(update.ended),
      ...run.lifecycle.observe(
        tracked.map(({ t, face }) => ({
          trackId: t.trackId,
          box: t.box,
          firstTs: t.firstTs,
          hits: t.hits,
          facePx: face ? Math.max(face.box.width, face.box.height) : 0,
        })),
        frame,
      ),
    ]);
    this.opts.onAnalysed?.({
      frame,
      people: tracked.map(({ t }) => ({ trackId: t.trackId, box: t.box })),
      faces: found.faces.map((f) => f.box),
      geometry: this.opts.lineZones?.geometry() ?? { lines: [], zones: [] },
    });
    if (run.lineZones) {
      await this.emitLineZones([
        ...run.lineZones.ended(update.ended),
        ...run.lineZones.observe(
          tracked.map(({ t }) => ({ trackId: t.trackId, box: t.box })),
          frame.ts,
          frame,
          (id) => run.lifecycle.isVisitor(id),
        ),
      ]);
    }
    for (const { t, face } of tracked) {
      // Only visitors' faces are classified: a prediction for a track that never became one would count it.
      if (!face || !run.lifecycle.isVisitor(t.trackId) || !run.selector.wants(t.trackId)) continue;
      if (Math.max(face.box.width, face.box.height) < counting.minGenderFacePx) {
        stats.facesBelowFloor++;
        continue;
      }
      // Reading the face's pixels is the main thread's largest cost per frame: skip it when even a
      // perfectly sharp, frontal crop of this box could not beat the track's best one.
      if (this.opts.cropper.qualityBound(face.box, face.score) < run.selector.minAccepted(t.trackId)) continue;
      try {
        const quality = await this.opts.cropper.quality(frame, face.box, face.score);
        if (!run.selector.offer(t.trackId, quality)) continue;
        const jpeg = await this.opts.cropper.jpeg(frame, face.box);
        const crop: FaceCrop = {
          schemaVersion: FACE_CROP_SCHEMA_VERSION,
          cropId: randomUUID(),
          cameraId: this.opts.cameraId,
          trackId: t.trackId,
          // On the track's own time line, so the crop lies inside the lifetime its track events report.
          frameTs: run.lifecycle.wallTimeOf(t.trackId, frame.monoTs) ?? frame.ts,
          box: face.box,
          detectionScore: face.score,
          quality,
          width: 224,
          height: 224,
          // sharp's Buffers sit on plain ArrayBuffers (never shared memory).
          jpeg: new Uint8Array(jpeg.buffer as ArrayBuffer, jpeg.byteOffset, jpeg.byteLength),
        };
        await this.opts.cropSink(crop);
        stats.cropsEmitted++;
      } catch (err) {
        stats.cropErrors++;
        this.opts.logger.warn({ err, trackId: t.trackId }, 'face crop not delivered');
      }
    }
  }

  /** Line and zone events in order; like track events, a failed publish is counted and logged. */
  private async emitLineZones(events: readonly LineZoneEvent[]): Promise<void> {
    const sink = this.opts.lineZones?.sink;
    if (!sink) return;
    for (const event of events) {
      try {
        await sink(event);
        this.opts.stats.lineZoneEvents++;
      } catch (err) {
        this.opts.stats.lineZoneEventErrors++;
        this.opts.logger.warn({ err, trackId: event.trackId, kind: event.kind }, 'line/zone event not delivered');
      }
    }
  }

  /** Track events in order; a failed publish is counted and logged, never stops the camera. */
  private async emit(events: readonly TrackEvent[]): Promise<void> {
    for (const event of events) {
      // The camera's track count is its visitors: tracks that lived long enough to be reported.
      if (event.kind === 'started') this.opts.stats.tracks++;
      try {
        await this.opts.trackEventSink(event);
        this.opts.stats.trackEvents++;
      } catch (err) {
        this.opts.stats.trackEventErrors++;
        this.opts.logger.warn({ err, trackId: event.trackId, kind: event.kind }, 'track event not delivered');
      }
    }
  }
}
