import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CameraConfigSchema,
  CountingConfigSchema,
  DetectorConfigSchema,
  TrackerConfigSchema,
  type CameraConfig,
} from '@crowdlens/config';
import {
  CameraStatusSchema,
  FaceCropSchema,
  TrackEventSchema,
  type CameraState,
  type CameraStatus,
  type FaceCrop,
  type TrackEvent,
} from '@crowdlens/contracts';
import { CameraManager } from '@crowdlens/vision';

const SAMPLE = resolve(__dirname, '../../assets/sample.mp4');

/** A logger that keeps every line, unredacted by pino itself: redaction must come from the vision code. */
function capturingLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) });
  return { logger, lines };
}

function ffmpegChildren(): string[] {
  try {
    return execFileSync('ps', ['--ppid', String(process.pid), '-o', 'comm='], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('ffmpeg'));
  } catch {
    return []; // ps exits 1 when there are no children
  }
}

function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  return new Promise((res, rej) => {
    const tick = () => {
      const v = check();
      if (v) return res(v);
      if (Date.now() - started > timeoutMs) return rej(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

const camera = (over: Partial<CameraConfig> & { id: string; url: string }): CameraConfig =>
  CameraConfigSchema.parse(over);

describe('CameraManager on the sample video (real ffmpeg, real detection, worker thread)', () => {
  const crops: FaceCrop[] = [];
  const trackEvents: TrackEvent[] = [];
  const statuses: CameraStatus[] = [];
  const { logger, lines } = capturingLogger();
  const manager = new CameraManager({
    logger,
    detector: DetectorConfigSchema.parse({ type: 'tiny', inputSize: 416, minScore: 0.5, workers: 1 }),
    counting: CountingConfigSchema.parse({ unit: 'faces' }),
    tracker: TrackerConfigSchema.parse({ cropsPerTrack: 3 }),
    cropSink: async (c) => void crops.push(c),
    trackEventSink: async (e) => void trackEvents.push(e),
    statusSink: (s) => void statuses.push(s),
    statusIntervalMs: 1000,
  });
  let elapsedMs = 0;

  beforeAll(async () => {
    await manager.start();
    const t0 = Date.now();
    await manager.add(camera({ id: 'demo', name: 'Demo', group: 'store-1', url: SAMPLE, fps: 3, realtime: false }));
    // The final status comes after the pipeline has drained.
    await waitFor('sample to finish', () => statuses.at(-1)?.state === 'stopped', 240_000);
    elapsedMs = Date.now() - t0;
  }, 300_000);
  afterAll(() => manager.stop());

  it('analyses every sampled frame of a file (backpressure, no drops) and ends stopped', () => {
    const s = manager.get('demo') as CameraStatus;
    expect(s).toMatchObject({
      state: 'stopped',
      lastError: null,
      name: 'Demo',
      group: 'store-1',
      framesDropped: 0,
      framesSkipped: 0,
      reconnects: 0,
    });
    // 44 s at 3 fps.
    expect(s.framesIn).toBeGreaterThanOrEqual(130);
    // Every frame is either detected or skipped by the motion gate (nothing moved); none dropped.
    expect(s.framesAnalysed + (manager.details('demo')?.framesSkipped ?? 0)).toBe(s.framesIn);
    expect(s.facesDetected).toBeGreaterThan(300);
    // eslint-disable-next-line no-console -- the measured rate is part of this test's report
    console.info(
      `sample.mp4 @3fps: ${s.framesAnalysed} frames in ${(elapsedMs / 1000).toFixed(1)} s = ${((s.framesAnalysed * 1000) / elapsedMs).toFixed(1)} frames/s; ` +
        `${s.facesDetected} faces, ${s.tracks} tracks, ${crops.length} crops`,
    );
  });

  it('emits valid 224x224 JPEG crops for many tracks, at most cropsPerTrack each', async () => {
    const byTrack = new Map<string, number>();
    for (const c of crops) {
      FaceCropSchema.parse(c);
      byTrack.set(c.trackId, (byTrack.get(c.trackId) ?? 0) + 1);
    }
    expect(byTrack.size).toBeGreaterThanOrEqual(15);
    expect(Math.max(...byTrack.values())).toBeLessThanOrEqual(3);
    // Every track sends its first crop at once.
    expect(byTrack.size).toBe((manager.get('demo') as CameraStatus).tracks);
    expect(new Set(crops.map((c) => c.cropId)).size).toBe(crops.length);
    for (const c of crops.filter((_, i) => i % 5 === 0)) {
      const meta = await sharp(Buffer.from(c.jpeg)).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width: 224, height: 224 });
    }
  });

  it('reports every track’s lifetime: one started and one ended event each, first seen to last seen', () => {
    const s = manager.get('demo') as CameraStatus;
    for (const e of trackEvents) TrackEventSchema.parse(e);
    const started = trackEvents.filter((e) => e.kind === 'started');
    const ended = trackEvents.filter((e) => e.kind === 'ended');
    expect(started).toHaveLength(s.tracks);
    expect(new Set(ended.map((e) => e.trackId))).toEqual(new Set(started.map((e) => e.trackId)));
    expect(ended).toHaveLength(started.length);
    // The file ended: whoever was in view then ends with the stream, the rest left or timed out.
    expect(ended.some((e) => e.endReason === 'stream-lost')).toBe(true);
    for (const e of ended) {
      const start = started.find((x) => x.trackId === e.trackId) as TrackEvent;
      expect(e.firstSeenTs).toBe(start.firstSeenTs);
      expect(e.lastSeenTs).toBeGreaterThanOrEqual(start.lastSeenTs);
      expect(e.frames).toBeGreaterThanOrEqual(2);
      expect(e.unit).toBe('face');
    }
    // A face shown for seconds is a track of seconds, whatever its crops: dwell is the track's.
    const longest = Math.max(...ended.map((e) => e.lastSeenTs - e.firstSeenTs));
    expect(longest).toBeGreaterThan(2000);
    // Every crop belongs to a reported track, and its started event came first.
    for (const c of crops) {
      const i = trackEvents.findIndex((e) => e.trackId === c.trackId && e.kind === 'started');
      expect(i).toBeGreaterThanOrEqual(0);
    }
  });

  it('keeps ids across frames: far fewer tracks than detections', () => {
    const s = manager.get('demo') as CameraStatus;
    expect(s.tracks).toBeLessThan(s.facesDetected / 4);
  });

  it('publishes schema-valid statuses through connecting, streaming and stopped', () => {
    for (const s of statuses) CameraStatusSchema.parse(s);
    const states = statuses.map((s) => s.state);
    expect(states[0]).toBe('connecting');
    expect(states).toContain('streaming');
    expect(states.at(-1)).toBe('stopped');
    expect(lines.some((l) => l.includes('ffmpeg'))).toBe(true);
  });
});

describe('CameraManager failures', () => {
  const statuses: CameraStatus[] = [];
  const { logger, lines } = capturingLogger();
  const manager = new CameraManager({
    logger,
    detector: DetectorConfigSchema.parse({ workers: 0 }),
    counting: CountingConfigSchema.parse({ unit: 'faces' }),
    tracker: TrackerConfigSchema.parse({}),
    cropSink: async () => undefined,
    trackEventSink: async () => undefined,
    statusSink: (s) => void statuses.push(s),
    capture: { backoff: { initialMs: 200, maxMs: 400 }, ioTimeoutMs: 2000 },
  });
  const dir = mkdtempSync(join(tmpdir(), 'crowdlens-vision-'));
  const stateOf = (id: string): CameraState | undefined => manager.get(id)?.state;

  beforeAll(() => manager.start(), 120_000);
  afterAll(() => manager.stop());

  it('a missing file fails with "not found"', async () => {
    await manager.add(camera({ id: 'missing', url: join(dir, 'nope.mp4') }));
    await waitFor('failed', () => stateOf('missing') === 'failed');
    const s = manager.get('missing') as CameraStatus;
    expect(s.lastError).toMatch(/not found/);
    expect(s.lastError).toContain('nope.mp4');
    expect(s.reconnects).toBe(0);
  });

  it('a file that is not a video fails with a clear reason', async () => {
    const txt = join(dir, 'notes.mp4');
    writeFileSync(txt, 'this is not a video\n'.repeat(100));
    await manager.add(camera({ id: 'text', url: txt }));
    await waitFor('failed', () => stateOf('text') === 'failed');
    expect(manager.get('text')?.lastError).toMatch(/not a video file or an unsupported format/);
  });

  it('an unreachable RTSP camera backs off and retries, never revealing its password', async () => {
    await manager.add(camera({ id: 'door', url: 'rtsp://user:secret@127.0.0.1:1/x' }));
    await waitFor('backoff', () => stateOf('door') === 'backoff');
    expect(manager.get('door')?.lastError).toMatch(/connection refused/);
    await waitFor('a reconnect', () => (manager.get('door')?.reconnects ?? 0) >= 2, 20_000);
    const s = manager.get('door') as CameraStatus;
    expect(s.url).toBe('rtsp://***:***@127.0.0.1:1/x');
    expect(['connecting', 'backoff']).toContain(s.state);
    expect(JSON.stringify(statuses)).not.toContain('secret');
    expect(JSON.stringify(manager.list())).not.toContain('secret');
    // ffmpeg printed the URL (its stderr is logged at trace level): redacted.
    expect(lines.some((l) => l.includes('127.0.0.1:1'))).toBe(true);
    expect(lines.filter((l) => l.includes('secret'))).toEqual([]);
  });

  it('lists cameras, refuses duplicates, removes them, and stop() leaves no ffmpeg behind', async () => {
    await expect(manager.add(camera({ id: 'door', url: 'rtsp://127.0.0.1:1/y' }))).rejects.toThrow(/already exists/);
    await manager.add(camera({ id: 'loop', url: SAMPLE, loop: true, realtime: true, fps: 2 }));
    await waitFor('streaming', () => stateOf('loop') === 'streaming');
    expect(ffmpegChildren().length).toBeGreaterThanOrEqual(1);
    expect(
      manager
        .list()
        .map((s) => s.cameraId)
        .sort(),
    ).toEqual(['door', 'loop', 'missing', 'text']);
    expect(await manager.remove('missing')).toBe(true);
    expect(await manager.remove('missing')).toBe(false);
    await manager.stop();
    expect(manager.list()).toEqual([]);
    expect(ffmpegChildren()).toEqual([]);
    expect(statuses.filter((s) => s.cameraId === 'loop').at(-1)?.state).toBe('stopped');
  });
});
