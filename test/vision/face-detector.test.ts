import { resolve } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DetectorConfigSchema } from '@crowdlens/config';
import {
  DetectorWorkerPool,
  FaceapiFaceDetector,
  resolveDetectorWorkerScript,
  type FaceDetection,
  type Frame,
} from '@crowdlens/vision';
import { sampleFrames } from '../support/sample-frames';

const logger = pino({ level: 'silent' });

const copyOf = (f: Frame): Frame => ({ ...f, data: Buffer.from(f.data) });

describe('face detection on the sample video (real TF.js)', () => {
  const config = DetectorConfigSchema.parse({
    type: 'tiny',
    inputSize: 416,
    minScore: 0.5,
    minFaceSize: 32,
    workers: 0,
  });
  const detector = new FaceapiFaceDetector(config);
  let frames: Frame[] = [];

  beforeAll(async () => {
    [frames] = await Promise.all([sampleFrames(), detector.load()]);
  });
  afterAll(() => detector.close());

  it('finds faces in most sampled frames, with clamped boxes', async () => {
    let withFaces = 0;
    let total = 0;
    for (const f of frames) {
      const faces = await detector.detect(f);
      if (faces.length > 0) withFaces++;
      total += faces.length;
      for (const d of faces) {
        expect(d.box.x).toBeGreaterThanOrEqual(0);
        expect(d.box.y).toBeGreaterThanOrEqual(0);
        expect(d.box.x + d.box.width).toBeLessThanOrEqual(f.width);
        expect(d.box.y + d.box.height).toBeLessThanOrEqual(f.height);
        expect(d.score).toBeGreaterThanOrEqual(0.5);
      }
    }
    expect(frames.length).toBeGreaterThanOrEqual(43);
    expect(withFaces / frames.length).toBeGreaterThan(0.8);
    expect(total).toBeGreaterThan(100);
  });

  it('disposes every tensor it creates per frame', async () => {
    const f = frames[5] as Frame;
    await detector.detect(f); // warm-up may allocate lasting state
    const before = detector.tensorCount();
    for (let i = 0; i < 15; i++) await detector.detect(frames[i % frames.length] as Frame);
    expect(detector.tensorCount()).toBe(before);
  });

  it('drops faces smaller than minFaceSize', async () => {
    const big = new FaceapiFaceDetector({ ...config, minFaceSize: 130 });
    await big.load();
    const f = frames[5] as Frame; // facematch grid: faces about 100-120 px
    const all = await detector.detect(f);
    const large = await big.detect(f);
    expect(all.length).toBeGreaterThan(large.length);
    for (const d of large) expect(Math.min(d.box.width, d.box.height)).toBeGreaterThan(100);
  });

  it("detects at a camera's own input size when asked, as a detector configured at that size does", async () => {
    const at320 = new FaceapiFaceDetector({ ...config, inputSize: 320 });
    await at320.load();
    let differs = 0;
    for (const f of frames.slice(0, 12)) {
      const want = await at320.detect(f);
      expect(await detector.detect(f, { inputSize: 320 })).toEqual(want);
      if (JSON.stringify(want) !== JSON.stringify(await detector.detect(f))) differs++;
    }
    expect(differs).toBeGreaterThan(3);
  });

  it('rejects a buffer of the wrong size instead of reading garbage', async () => {
    await expect(
      detector.detect({ data: Buffer.alloc(10), width: 640, height: 360, ts: 0, monoTs: 0, seq: 0 }),
    ).rejects.toThrow(/expected/);
  });

  describe('in worker threads', () => {
    const pool = new DetectorWorkerPool({ faces: { ...config, workers: 2 }, people: null }, { logger });
    beforeAll(() => pool.load(), 120_000);
    afterAll(() => pool.close());

    it('resolves the compiled worker script when running from TypeScript', () => {
      const script = resolveDetectorWorkerScript(
        resolve(__dirname, '../../libs/vision/src/detection/detector-worker-pool.ts'),
      );
      expect(script).toBe(resolve(__dirname, '../../dist/libs/vision/src/detection/detector-worker.js'));
      expect(resolveDetectorWorkerScript('/opt/app/dist/libs/vision/src/detection/detector-worker-pool.js')).toBe(
        '/opt/app/dist/libs/vision/src/detection/detector-worker.js',
      );
    });

    it('finds the same faces as the main thread and hands the frame buffer back', async () => {
      const picks = [1, 5, 12, 20, 30].map((i) => frames[i] as Frame);
      const expected: FaceDetection[][] = [];
      for (const f of picks) expected.push(await detector.detect(f));
      const copies = picks.map(copyOf);
      const got = await Promise.all(copies.map(async (f) => (await pool.detect(f)).faces));
      expect(got).toEqual(expected);
      copies.forEach((c, i) => {
        expect(c.data.length).toBe(640 * 360 * 3);
        expect(c.data.equals((picks[i] as Frame).data)).toBe(true);
      });
      expect(pool.backend).toBe('tfjs-wasm');
      expect(pool.concurrency).toBe(2);
    });

    it('transfers the frame instead of copying it', async () => {
      const f = copyOf(frames[3] as Frame);
      const original = f.data.buffer;
      const pending = pool.detect(f);
      // Transferred away: the sender's ArrayBuffer is detached while the worker holds it.
      expect(original.byteLength).toBe(0);
      await pending;
      expect(f.data.length).toBe(640 * 360 * 3);
    });
  });
});
