/**
 * Runs one video file through the ingest pipeline (real ffmpeg, the real
 * detector workers, tracker and track lifecycle) as fast as it can be
 * analysed, and returns what a counting evaluation needs: every track event
 * and the first frame's time, so track times can be put on the clip's clock.
 */
import pino from 'pino';
import {
  CameraConfigSchema,
  CountingConfigSchema,
  DetectorConfigSchema,
  TrackerConfigSchema,
  type CountingConfigInput,
  type TrackerConfigInput,
} from '@crowdlens/config';
import type { TrackEvent } from '@crowdlens/contracts';
import { CameraManager, createSceneDetector } from '@crowdlens/vision';
import { TappedSceneDetector } from '../support/tapped-scene-detector';

export interface CountingRun {
  readonly events: TrackEvent[];
  /** Capture time of the clip's first analysed frame, epoch ms (the clip's t = 0). */
  readonly t0: number;
  readonly framesAnalysed: number;
  readonly peopleDetected: number;
  readonly facesDetected: number;
  readonly crops: number;
  readonly wallMs: number;
  /** CPU time of this process (all threads) while the clip ran, ms. */
  readonly cpuMs: number;
}

export interface CountingRunOptions {
  readonly file: string;
  readonly fps: number;
  readonly width?: number;
  readonly counting?: CountingConfigInput;
  readonly tracker?: TrackerConfigInput;
  readonly workers?: number;
}

export async function runCounting(opts: CountingRunOptions): Promise<CountingRun> {
  const logger = pino({ level: process.env.BENCH_LOG ?? 'warn' });
  const detector = DetectorConfigSchema.parse({ workers: opts.workers ?? 2 });
  const counting = CountingConfigSchema.parse(opts.counting ?? {});
  // The clip's t = 0 is its first analysed frame.
  let t0 = Number.POSITIVE_INFINITY;
  const clock = new TappedSceneDetector(
    createSceneDetector(
      { faces: detector, people: counting.unit === 'people' ? counting.personDetector : null },
      logger,
    ),
    (ts) => (t0 = Math.min(t0, ts)),
  );
  const events: TrackEvent[] = [];
  let crops = 0;
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const manager = new CameraManager({
    logger,
    detector,
    counting,
    tracker: TrackerConfigSchema.parse(opts.tracker ?? {}),
    tracking: { minHits: TrackerConfigSchema.parse(opts.tracker ?? {}).minHits },
    sceneDetector: clock,
    cropSink: async () => {
      crops++;
    },
    trackEventSink: async (e) => void events.push(e),
    statusSink: (s) => {
      if (s.state === 'stopped' || s.state === 'failed') finished();
    },
    statusIntervalMs: 0,
  });
  await manager.start();
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  await manager.add(
    CameraConfigSchema.parse({ id: 'clip', url: opts.file, fps: opts.fps, width: opts.width ?? 640, realtime: false }),
  );
  await done;
  const wallMs = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  const details = manager.details('clip');
  await manager.stop();
  return {
    events,
    t0,
    framesAnalysed: details?.framesAnalysed ?? 0,
    peopleDetected: details?.peopleDetected ?? 0,
    facesDetected: details?.facesDetected ?? 0,
    crops,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}
