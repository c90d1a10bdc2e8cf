import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DetectorConfigSchema } from '@crowdlens/config';
import {
  DetectorWorkerPool,
  FaceapiFaceDetector,
  iou,
  OnnxSsdFaceDetector,
  type FaceDetection,
  type Frame,
} from '@crowdlens/vision';
import { sampleFrames } from '../support/sample-frames';

const logger = pino({ level: 'silent' });

function rotate90(f: Frame): Frame {
  // Portrait frames pad on the right instead of the bottom.
  const out = Buffer.alloc(f.data.length);
  for (let y = 0; y < f.height; y++)
    for (let x = 0; x < f.width; x++) {
      const src = (y * f.width + x) * 3;
      const dst = (x * f.height + (f.height - 1 - y)) * 3;
      f.data.copy(out, dst, src, src + 3);
    }
  return { data: out, width: f.height, height: f.width, ts: f.ts, monoTs: f.monoTs, seq: f.seq };
}

describe('SSD MobileNet v1 on onnxruntime against face-api’s own SSD (real models, real frames)', () => {
  const config = DetectorConfigSchema.parse({
    type: 'ssd',
    engine: 'tfjs',
    minScore: 0.5,
    minFaceSize: 16,
    workers: 0,
  });
  const reference = new FaceapiFaceDetector(config);
  const onnx = new OnnxSsdFaceDetector({ ...config, engine: 'onnx' });
  let frames: Frame[] = [];

  beforeAll(async () => {
    const [landscape] = await Promise.all([sampleFrames(640), reference.load(), onnx.load()]);
    frames = [...landscape.filter((_, i) => i % 3 === 0), ...landscape.slice(0, 4).map(rotate90)];
  });
  afterAll(async () => {
    await reference.close();
    await onnx.close();
  });

  it('finds the same faces, with the same boxes and scores', async () => {
    let matched = 0;
    let total = 0;
    for (const f of frames) {
      const want = await reference.detect(f);
      const got = await onnx.detect(f);
      total += want.length;
      for (const w of want) {
        const best = got.reduce<FaceDetection | null>(
          (b, g) => (b === null || iou(g.box, w.box) > iou(b.box, w.box) ? g : b),
          null,
        );
        if (best && iou(best.box, w.box) > 0.99 && Math.abs(best.score - w.score) < 0.005) matched++;
      }
      // Same weights, same arithmetic up to float rounding: nothing missing, nothing extra.
      expect(got.length).toBe(want.length);
    }
    expect(frames.length).toBeGreaterThan(15);
    expect(total).toBeGreaterThan(50);
    expect(matched).toBe(total);
  });

  it('gives each of several overlapping calls its own frame’s faces (cameras sharing one detector)', async () => {
    const some = frames.slice(0, 8);
    const sequential = [];
    for (const f of some) sequential.push(await onnx.detect(f));
    const overlapping = await Promise.all(some.map((f) => onnx.detect(f)));
    expect(overlapping).toEqual(sequential);
    expect(sequential.flat().length).toBeGreaterThan(10);
  });

  it("keeps each frame to its camera's threshold (detectorMinScore), as face-api's SSD at that threshold does", async () => {
    const at = (minScore: number) => ({ ...config, minScore });
    const strictRef = new FaceapiFaceDetector(at(0.8));
    const lenient = new OnnxSsdFaceDetector({ ...at(0.3), engine: 'onnx' });
    await Promise.all([strictRef.load(), lenient.load()]);
    try {
      let fewer = 0;
      // A few frames: face-api's SSD on TF.js costs about a second each.
      for (const f of frames.slice(0, 5)) {
        const copy = () => ({ ...f, data: Buffer.from(f.data) });
        // The same threshold asked per call or configured gives the same faces, on both engines.
        expect(await onnx.detect(copy(), { minScore: 0.3 })).toEqual(await lenient.detect(copy()));
        const strict = await onnx.detect(copy(), { minScore: 0.8 });
        expect(strict.every((d) => d.score >= 0.8)).toBe(true);
        const viaReference = await reference.detect(copy(), { minScore: 0.8 });
        expect(viaReference).toEqual(await strictRef.detect(copy()));
        if (strict.length < (await onnx.detect(copy())).length) fewer++;
      }
      expect(fewer).toBeGreaterThan(0);
    } finally {
      await strictRef.close();
      await lenient.close();
    }
  });

  it('rejects a frame whose buffer does not match its size', async () => {
    const f = frames[0] as Frame;
    await expect(onnx.detect({ ...f, width: f.width + 1 })).rejects.toThrow(/expected/);
  });
});

describe('the onnxruntime SSD in detector worker threads', () => {
  it('gives the same faces as on the calling thread, two workers in parallel', async () => {
    const config = DetectorConfigSchema.parse({ type: 'ssd', minScore: 0.5, minFaceSize: 16, workers: 2 });
    const frames = (await sampleFrames(640)).filter((_, i) => i % 4 === 0);
    const local = new OnnxSsdFaceDetector(config);
    const pool = new DetectorWorkerPool({ faces: config, people: null }, { logger });
    await Promise.all([local.load(), pool.load()]);
    try {
      expect(pool.backend).toBe('onnxruntime-cpu');
      const want = [];
      for (const f of frames) want.push(await local.detect({ ...f, data: Buffer.from(f.data) }));
      // Both workers busy at once: results must come back to the right caller.
      const got = await Promise.all(
        frames.map(async (f) => (await pool.detect({ ...f, data: Buffer.from(f.data) })).faces),
      );
      expect(got).toEqual(want);
      expect(want.flat().length).toBeGreaterThan(20);
    } finally {
      await pool.close();
      await local.close();
    }
  });
});

describe('the onnxruntime SSD asked for a GPU', () => {
  it('runs on CUDA where it can, else falls back to CPU, says why, and finds the same faces', async () => {
    const cpu = DetectorConfigSchema.parse({ type: 'ssd', minScore: 0.5, minFaceSize: 16, workers: 2 });
    const frames = (await sampleFrames(640)).filter((_, i) => i % 6 === 0);
    const local = new OnnxSsdFaceDetector(cpu);
    const pool = new DetectorWorkerPool({ faces: { ...cpu, executionProvider: 'cuda' }, people: null }, { logger });
    await Promise.all([local.load(), pool.load()]);
    try {
      // This host's onnxruntime-node has no CUDA binaries; a GPU host with them takes the first branch.
      if (pool.backend === 'onnxruntime-cuda') expect(pool.fallbackReason).toBeNull();
      else {
        expect(pool.backend).toBe('onnxruntime-cpu');
        expect(pool.fallbackReason).toMatch(/cuda|CUDA/);
      }
      expect(local.fallbackReason).toBeNull();
      for (const f of frames) {
        const want = await local.detect({ ...f, data: Buffer.from(f.data) });
        const got = (await pool.detect({ ...f, data: Buffer.from(f.data) })).faces;
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => expect(iou(g.box, (want[i] as FaceDetection).box)).toBeGreaterThan(0.99));
      }
    } finally {
      await pool.close();
      await local.close();
    }
  });
});
