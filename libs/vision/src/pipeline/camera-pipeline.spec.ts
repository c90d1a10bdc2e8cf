import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FaceCropSchema, TrackEventSchema, type FaceCrop, type TrackEvent } from '@crowdlens/contracts';
import { FaceCropper } from '../crop/face-cropper';
import type { FaceDetectOptions, FaceDetection } from '../detection/face-detector.port';
import type { SceneDetections, SceneDetector } from '../detection/scene-detector.port';
import type { Frame } from '../frame';
import { CameraPipeline, type CountingOptions, type OverflowPolicy } from './camera-pipeline';
import { CameraStats } from './camera-stats';
import type { MotionGateOptions } from './motion-gate';

/** Detector whose answers the test releases by hand, possibly out of order. */
class ManualDetector implements SceneDetector {
  readonly backend = 'manual';
  readonly calls: {
    frame: Frame;
    options: FaceDetectOptions | undefined;
    resolve: (f: FaceDetection[]) => void;
    resolveScene: (found: SceneDetections) => void;
    reject: (e: Error) => void;
  }[] = [];
  constructor(
    readonly concurrency = 1,
    readonly detectsPeople = false,
  ) {}
  async load(): Promise<void> {}
  async close(): Promise<void> {}
  detect(frame: Frame, options?: FaceDetectOptions): Promise<SceneDetections> {
    return new Promise((resolve, reject) =>
      this.calls.push({
        frame,
        options,
        resolve: (faces) => resolve({ faces, people: [] }),
        resolveScene: resolve,
        reject,
      }),
    );
  }
}

function frame(seq: number): Frame {
  const w = 160;
  const h = 120;
  const data = Buffer.alloc(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seq) % 256;
  return { data, width: w, height: h, ts: 1_000_000 + seq * 200, monoTs: 1_000_000 + seq * 200, seq };
}

const faceAt = (x: number): FaceDetection => ({ box: { x, y: 20, width: 60, height: 60 }, score: 0.9 });
const flush = () => new Promise((r) => setTimeout(r, 20));
/** The i-th detection request, once the pipeline has made it (cropping the previous frame can take a while on a busy machine). */
async function call(detector: ManualDetector, i: number): Promise<ManualDetector['calls'][number]> {
  for (let waited = 0; !detector.calls[i]; waited += 10) {
    if (waited > 10_000) throw new Error(`detection request ${i} never came`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return detector.calls[i] as ManualDetector['calls'][number];
}

function setup(
  overflow: OverflowPolicy = 'drop-oldest',
  concurrency = 1,
  cropsPerTrack = 2,
  extra: {
    motion?: Partial<MotionGateOptions>;
    minHits?: number;
    counting?: Partial<CountingOptions>;
    faceOptions?: FaceDetectOptions;
  } = {},
) {
  const counting: CountingOptions = { unit: 'face', minGenderFacePx: 8, heartbeatMs: 30_000, ...extra.counting };
  const detector = new ManualDetector(concurrency, counting.unit === 'person');
  const stats = new CameraStats();
  const crops: FaceCrop[] = [];
  const events: TrackEvent[] = [];
  const pauses: boolean[] = [];
  const pipeline = new CameraPipeline({
    cameraId: 'cam-1',
    detector,
    ...(extra.faceOptions ? { faceOptions: extra.faceOptions } : {}),
    counting,
    cropper: new FaceCropper(),
    tracker: { iouThreshold: 0.3, maxAgeMs: 1500, cropsPerTrack, minHits: extra.minHits ?? 1 },
    // The synthetic frames barely differ: gating is tested on its own below.
    motion: extra.motion ?? { enabled: false },
    tracking: { minHits: extra.minHits ?? 1 },
    cropSink: async (c) => {
      crops.push(c);
    },
    trackEventSink: async (e) => {
      events.push(e);
    },
    stats,
    logger: pino({ level: 'silent' }),
    overflow,
    onBackpressure: (p) => pauses.push(p),
  });
  return { detector, stats, crops, events, pauses, pipeline };
}

describe('CameraPipeline', () => {
  it("asks the detector for the camera's own input size and threshold, and for none when the camera has none", async () => {
    const own = setup('drop-oldest', 1, 2, { faceOptions: { inputSize: 416, minScore: 0.7 } });
    own.pipeline.push(frame(0));
    expect((await call(own.detector, 0)).options).toEqual({ inputSize: 416, minScore: 0.7 });
    (await call(own.detector, 0)).resolve([]);
    await own.pipeline.stop();
    const plain = setup();
    plain.pipeline.push(frame(0));
    expect((await call(plain.detector, 0)).options).toBeUndefined();
    (await call(plain.detector, 0)).resolve([]);
    await plain.pipeline.stop();
  });

  it('drops the oldest queued frame when detection is behind, and counts it', async () => {
    const { detector, stats, pipeline } = setup();
    for (let i = 0; i < 5; i++) pipeline.push(frame(i));
    // Frame 0 in detection, 3 and 4 waiting; 1 and 2 were dropped.
    expect(detector.calls).toHaveLength(1);
    expect(stats.framesDropped).toBe(2);
    (await call(detector, 0)).resolve([]);
    await flush();
    (await call(detector, 1)).resolve([]);
    await flush();
    expect(detector.calls.map((c) => c.frame.seq)).toEqual([0, 3, 4]);
    (await call(detector, 2)).resolve([]);
    await pipeline.stop();
    expect(stats.framesAnalysed).toBe(3);
  });

  it('emits schema-valid 224x224 crops, first one at once, at most cropsPerTrack per track', async () => {
    const { detector, crops, stats, pipeline } = setup('drop-oldest', 1, 2);
    for (let i = 0; i < 6; i++) {
      pipeline.push(frame(i));
      (await call(detector, i)).resolve([faceAt(20 + i * 2)]);
      await flush();
    }
    await pipeline.stop();
    expect(stats.facesDetected).toBe(6);
    expect(stats.tracks).toBe(1);
    expect(crops.length).toBeGreaterThanOrEqual(1);
    expect(crops.length).toBeLessThanOrEqual(2);
    expect(crops[0]?.frameTs).toBe(frame(0).ts);
    for (const c of crops) {
      expect(() => FaceCropSchema.parse(c)).not.toThrow();
      expect(c.trackId).toMatch(/^cam-1-[0-9a-f]{8}-1$/);
      expect(Buffer.from(c.jpeg).subarray(0, 2).toString('hex')).toBe('ffd8');
    }
    expect(new Set(crops.map((c) => c.cropId)).size).toBe(crops.length);
  });

  it('tracks in frame order even when parallel detections finish out of order', async () => {
    const { detector, crops, pipeline } = setup('drop-oldest', 2, 1);
    pipeline.push(frame(0));
    pipeline.push(frame(1));
    expect(detector.calls).toHaveLength(2);
    // Frame 1 finishes first, with a new face far away; frame 0 has the first face.
    (await call(detector, 1)).resolve([faceAt(20), { box: { x: 100, y: 50, width: 50, height: 50 }, score: 0.8 }]);
    await flush();
    expect(crops).toHaveLength(0);
    (await call(detector, 0)).resolve([faceAt(20)]);
    await pipeline.stop();
    expect(crops.map((c) => c.frameTs)).toEqual([frame(0).ts, frame(1).ts]);
    expect(crops[0]?.trackId).not.toBe(crops[1]?.trackId);
  });

  it('pauses the source instead of dropping under backpressure', async () => {
    const { detector, stats, pauses, pipeline } = setup('backpressure');
    for (let i = 0; i < 4; i++) pipeline.push(frame(i));
    expect(stats.framesDropped).toBe(0);
    expect(pauses).toEqual([true]);
    for (let i = 0; i < 4; i++) {
      (await call(detector, i)).resolve([]);
      await flush();
    }
    expect(pauses).toEqual([true, false]);
    expect(stats.framesAnalysed).toBe(4);
    await pipeline.stop();
  });

  it('skips a frame whose detection failed and carries on', async () => {
    const { detector, stats, pipeline } = setup();
    pipeline.push(frame(0));
    (await call(detector, 0)).reject(new Error('worker died'));
    await flush();
    pipeline.push(frame(1));
    (await call(detector, 1)).resolve([faceAt(10)]);
    await pipeline.stop();
    expect(stats.detectErrors).toBe(1);
    expect(stats.framesDropped).toBe(1);
    expect(stats.framesAnalysed).toBe(1);
  });

  it('starts fresh track ids on a new run', async () => {
    const { detector, crops, pipeline } = setup('drop-oldest', 1, 1);
    pipeline.push(frame(0));
    (await call(detector, 0)).resolve([faceAt(20)]);
    await flush();
    pipeline.startRun();
    pipeline.push(frame(1));
    (await call(detector, 1)).resolve([faceAt(20)]);
    await pipeline.stop();
    expect(crops).toHaveLength(2);
    expect(crops[0]?.trackId.split('-').slice(0, 3)).not.toEqual(crops[1]?.trackId.split('-').slice(0, 3));
  });

  it('skips detection on unchanged frames, counts them, and keeps the tracks alive', async () => {
    // maxAgeMs is 1500: without coasting, a track unseen by detection for 2 s would close.
    const { detector, crops, stats, pipeline } = setup('drop-oldest', 1, 5, { motion: { maxSkipMs: 10_000 } });
    const still = (seq: number): Frame => ({
      ...frame(0),
      data: Buffer.from(frame(0).data),
      ts: 1_000_000 + seq * 200,
      monoTs: 1_000_000 + seq * 200,
      seq,
    });
    pipeline.push(still(0));
    (await call(detector, 0)).resolve([faceAt(20)]);
    await flush();
    for (let i = 1; i <= 10; i++) pipeline.push(still(i)); // 2 s of an unchanged picture
    expect(detector.calls).toHaveLength(1);
    expect(stats.framesSkipped).toBe(10);
    // Something moves: analysed again, and the person is still the same track.
    const moved = frame(11);
    pipeline.push(moved);
    (await call(detector, 1)).resolve([faceAt(22)]);
    await pipeline.stop();
    expect(stats.framesAnalysed).toBe(2);
    expect(stats.tracks).toBe(1);
    expect(new Set(crops.map((c) => c.trackId)).size).toBe(1);
  });

  it('with minHits 2, a one-frame detection never becomes a track or a crop', async () => {
    const { detector, crops, stats, pipeline } = setup('drop-oldest', 1, 2, { minHits: 2 });
    pipeline.push(frame(0));
    (await call(detector, 0)).resolve([faceAt(20), { box: { x: 100, y: 50, width: 40, height: 40 }, score: 0.6 }]);
    await flush();
    pipeline.push(frame(1));
    (await call(detector, 1)).resolve([faceAt(21)]);
    await pipeline.stop();
    expect(stats.tracks).toBe(1);
    expect(crops).toHaveLength(1);
    expect(crops[0]?.frameTs).toBe(frame(1).ts);
  });

  it('reports each track started before its crops, and ends the open ones with the run and at shutdown', async () => {
    const { detector, crops, events, pipeline } = setup('drop-oldest', 1, 1);
    pipeline.push(frame(0));
    (await call(detector, 0)).resolve([faceAt(20)]);
    // Cropping (sharp) can take longer than a tick on a busy machine.
    for (let waited = 0; crops.length === 0 && waited < 10_000; waited += 10)
      await new Promise((r) => setTimeout(r, 10));
    expect(events.map((e) => e.kind)).toEqual(['started']);
    expect(crops[0]?.trackId).toBe(events[0]?.trackId);
    pipeline.startRun(); // reconnect: that person cannot continue
    pipeline.push(frame(1));
    (await call(detector, 1)).resolve([faceAt(20)]);
    await pipeline.stop();
    for (const e of events) TrackEventSchema.parse(e);
    expect(events.map((e) => [e.kind, e.endReason])).toEqual([
      ['started', null],
      ['ended', 'stream-lost'],
      ['started', null],
      ['ended', 'shutdown'],
    ]);
    expect(events[1]).toMatchObject({ firstSeenTs: frame(0).ts, lastSeenTs: frame(0).ts });
  });

  it('does not classify faces below the gender floor, but still reports the person and their face size', async () => {
    const { detector, crops, events, stats, pipeline } = setup('drop-oldest', 1, 3, {
      counting: { minGenderFacePx: 61 },
    });
    for (let i = 0; i < 3; i++) {
      pipeline.push(frame(i));
      (await call(detector, i)).resolve([faceAt(20 + i)]);
      await flush();
    }
    await pipeline.stop();
    expect(crops).toHaveLength(0);
    expect(stats.facesBelowFloor).toBe(3);
    expect(events.at(-1)).toMatchObject({ kind: 'ended', largestFacePx: 60, frames: 3 });
  });

  it('in people mode counts a body without a face, and sends a face on a body under the body’s track', async () => {
    const { detector, crops, events, pipeline } = setup('drop-oldest', 1, 3, { counting: { unit: 'person' } });
    const body = (x: number) => ({ box: { x, y: 5, width: 40, height: 110 }, score: 0.7 });
    const headOf = (x: number) => ({ box: { x: x + 8, y: 8, width: 24, height: 24 }, score: 0.9 });
    for (let i = 0; i < 3; i++) {
      pipeline.push(frame(i));
      // A person far away (no face) and one close enough for a face.
      (await call(detector, i)).resolveScene({ people: [body(10 + i), body(100 + i)], faces: [headOf(100 + i)] });
      await flush();
    }
    await pipeline.stop();
    const started = events.filter((e) => e.kind === 'started');
    expect(started).toHaveLength(2);
    expect(started.every((e) => e.unit === 'person')).toBe(true);
    expect(new Set(crops.map((c) => c.trackId)).size).toBe(1);
    const withFace = events.find((e) => e.kind === 'ended' && e.largestFacePx > 0);
    expect(withFace?.trackId).toBe(crops[0]?.trackId);
    expect(crops[0]?.box).toEqual(headOf(100).box);
  });

  it('refuses to count people with a detector that does not detect them', () => {
    expect(
      () =>
        new CameraPipeline({
          cameraId: 'c',
          detector: new ManualDetector(1, false),
          counting: { unit: 'person', minGenderFacePx: 32, heartbeatMs: 30_000 },
          cropper: new FaceCropper(),
          tracker: { iouThreshold: 0.3, maxAgeMs: 1500, cropsPerTrack: 1, minHits: 1 },
          cropSink: async () => undefined,
          trackEventSink: async () => undefined,
          stats: new CameraStats(),
          logger: pino({ level: 'silent' }),
          overflow: 'drop-oldest',
        }),
    ).toThrow(/detects people/);
  });

  it('ends every track when the whole view changes, so people of two scenes are never merged', async () => {
    const { detector, events, stats, pipeline } = setup('drop-oldest', 1, 1);
    const other = (seq: number): Frame => {
      const f = frame(seq);
      for (let i = 0; i < f.data.length; i++) f.data[i] = 255 - (f.data[i] as number);
      return f;
    };
    pipeline.push(frame(0));
    (await call(detector, 0)).resolve([faceAt(20)]);
    await flush();
    pipeline.push(other(1)); // the same place in the picture, another scene
    (await call(detector, 1)).resolve([faceAt(21)]);
    await pipeline.stop();
    expect(stats.viewChanges).toBe(1);
    expect(events.map((e) => [e.kind, e.endReason])).toEqual([
      ['started', null],
      ['ended', 'view-changed'],
      ['started', null],
      ['ended', 'shutdown'],
    ]);
  });

  it('a wall-clock step back mid-track neither stops tracking nor reorders the track (monotonic time, issue 14 item 13)', async () => {
    const { detector, crops, events, stats, pipeline } = setup('drop-oldest', 1, 5);
    const HOUR = 3_600_000;
    for (let i = 0; i < 6; i++) {
      const f = frame(i);
      // NTP steps the wall clock back an hour after the third frame; the monotonic clock runs on.
      pipeline.push(i < 3 ? f : { ...f, ts: f.ts - HOUR });
      (await call(detector, i)).resolve([faceAt(20 + i)]);
      await flush();
    }
    await pipeline.stop();
    expect(stats.framesAnalysed).toBe(6);
    expect(stats.tracks).toBe(1);
    for (const e of events) TrackEventSchema.parse(e);
    const ended = events.find((e) => e.kind === 'ended');
    // The stay is the monotonic one (5 frame gaps of 200 ms), on the time line the track started on.
    expect(ended).toMatchObject({ firstSeenTs: frame(0).ts, lastSeenTs: frame(0).ts + 1_000, endReason: 'shutdown' });
    for (const c of crops) {
      expect(c.frameTs).toBeGreaterThanOrEqual(ended!.firstSeenTs);
      expect(c.frameTs).toBeLessThanOrEqual(ended!.lastSeenTs);
    }
  });
});
