/**
 * CameraManager's edges (issue 14 items 7 and 15): a camera added while the manager stops, and the
 * camera limit under concurrent adds. Real ffmpeg children; the detector is a stand-in, detection
 * is not what is tested here.
 */
import { resolve } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CameraConfigSchema,
  CountingConfigSchema,
  DetectorConfigSchema,
  TrackerConfigSchema,
  type CameraConfig,
} from '@crowdlens/config';
import {
  CameraLimitError,
  CameraManager,
  CameraManagerStoppedError,
  type CameraManagerOptions,
  type SceneDetections,
  type SceneDetector,
} from '@crowdlens/vision';
import { ffmpegChildren, sleep, waitFor } from '../rtsp/support/wait';

const SAMPLE = resolve(__dirname, '../../assets/sample.mp4');
const camera = (id: string): CameraConfig => CameraConfigSchema.parse({ id, url: SAMPLE, fps: 2, loop: true });

/** Finds nothing; its load() can be held back to widen the window in which add() waits for it. */
class StandInDetector implements SceneDetector {
  readonly concurrency = 1;
  readonly backend = 'stand-in';
  readonly detectsPeople = false;
  private release: () => void = () => undefined;
  private readonly loaded: Promise<void>;
  constructor(held = false) {
    this.loaded = held ? new Promise((r) => (this.release = r)) : Promise.resolve();
  }
  load(): Promise<void> {
    return this.loaded;
  }
  finishLoading(): void {
    this.release();
  }
  async detect(): Promise<SceneDetections> {
    return { faces: [], people: [] };
  }
  async close(): Promise<void> {}
}

function manager(detector: SceneDetector, over: Partial<CameraManagerOptions> = {}): CameraManager {
  return new CameraManager({
    logger: pino({ level: 'silent' }),
    detector: DetectorConfigSchema.parse({ workers: 0 }),
    counting: CountingConfigSchema.parse({ unit: 'faces' }),
    tracker: TrackerConfigSchema.parse({}),
    cropSink: async () => undefined,
    trackEventSink: async () => undefined,
    statusSink: () => undefined,
    sceneDetector: detector,
    ...over,
  });
}

describe('CameraManager lifecycle', () => {
  afterEach(() => {
    // A leak found by a failing test must not run on (a looping file never ends): end what this process started.
    for (const { pid } of ffmpegChildren()) process.kill(-pid, 'SIGKILL');
  });

  it('a camera added while the manager stops is refused, and no ffmpeg child outlives stop()', async () => {
    expect(ffmpegChildren()).toEqual([]);
    const m = manager(new StandInDetector());
    await m.start();
    // The detector is loaded: add() still yields once before it starts the camera, and stop() runs there.
    const adding = m.add(camera('late'));
    const stopped = m.stop();
    await expect(adding).rejects.toBeInstanceOf(CameraManagerStoppedError);
    await stopped;
    await sleep(1000);
    expect(ffmpegChildren()).toEqual([]);
    expect(m.list()).toEqual([]);
  });

  it('the same while the detector is still loading', async () => {
    const detector = new StandInDetector(true);
    const m = manager(detector);
    const adding = m.add(camera('early'));
    const stopped = m.stop();
    detector.finishLoading();
    await expect(adding).rejects.toThrow(/ingest is shutting down/);
    await stopped;
    await sleep(1000);
    expect(ffmpegChildren()).toEqual([]);
  });

  it('maxCameras holds under concurrent adds (a slot is taken before the detector is awaited); a removal frees one', async () => {
    const detector = new StandInDetector(true);
    const m = manager(detector, { maxCameras: 2 });
    const results = Promise.allSettled([m.add(camera('a')), m.add(camera('b')), m.add(camera('c'))]);
    detector.finishLoading();
    const [a, b, c] = await results;
    expect([a.status, b.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(c.status).toBe('rejected');
    const refused = (c as PromiseRejectedResult).reason as Error;
    expect(refused).toBeInstanceOf(CameraLimitError);
    expect(refused.message).toMatch(/already reads 2 cameras, its limit \(ingest\.maxCameras = 2\)/);
    expect(m.list().map((s) => s.cameraId)).toEqual(['a', 'b']);
    await expect(m.add(camera('d'))).rejects.toBeInstanceOf(CameraLimitError);
    await m.remove('a');
    await m.add(camera('d'));
    expect(m.list().map((s) => s.cameraId)).toEqual(['b', 'd']);
    await waitFor('both ffmpeg children', () => ffmpegChildren().length === 2, 30_000);
    await m.stop();
    expect(ffmpegChildren()).toEqual([]);
  });
});
