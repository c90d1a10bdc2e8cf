/**
 * TS preprocessing vs torchvision itself: tools/crowdlens_tools/golden.py runs
 * Resize(224) + CenterCrop(224) + ToTensor + Normalize on PNGs (real face
 * crops and synthetic images of awkward sizes) and the TS preprocessor must
 * agree within 1e-3 on every recorded value (measured: bit-identical, the
 * resize is a port of Pillow's fixed-point code).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TorchvisionPreprocessor } from '@crowdlens/models';
import {
  faceCropCelebaSize,
  faceCrops224,
  PYTHON_ENV_TIMEOUT_MS,
  rawRgb,
  runTool,
  toolsPython,
  writePng,
} from './python-tools';

interface GoldenImage {
  file: string;
  width: number;
  height: number;
  shape: number[];
  head: number[];
  stride: number;
  strided: number[];
  sum: number;
}

const work = mkdtempSync(join(tmpdir(), 'crowdlens-golden-'));
let golden: GoldenImage[] = [];

beforeAll(
  async () => {
    await toolsPython();
    const crops = [...(await faceCrops224()), await faceCropCelebaSize()];
    const files = await Promise.all(
      crops.map(async (c, i) => {
        const path = join(work, `face-${i}-${c.width}x${c.height}.png`);
        await writePng(c, path);
        return path;
      }),
    );
    const out = join(work, 'golden.json');
    await runTool('golden', ['--make-images', join(work, 'synthetic'), '--out', out, ...files]);
    golden = (JSON.parse(readFileSync(out, 'utf8')) as { images: GoldenImage[] }).images;
  },
  PYTHON_ENV_TIMEOUT_MS + 5 * 60_000,
);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('TorchvisionPreprocessor vs torchvision (golden values)', () => {
  it('covers 224x224 crops and sizes that need Resize + CenterCrop', () => {
    const sizes = golden.map((g) => `${g.width}x${g.height}`);
    expect(sizes).toContain('224x224');
    expect(sizes).toContain('178x218');
    expect(sizes).toContain('640x427');
    expect(sizes).toContain('200x205');
  });

  it('matches every recorded value within 1e-3', async () => {
    expect(golden.length).toBeGreaterThanOrEqual(8);
    const pre = new TorchvisionPreprocessor();
    for (const g of golden) {
      const image = await rawRgb(sharp(g.file));
      expect([image.width, image.height]).toEqual([g.width, g.height]);
      const t = pre.toTensor(image);
      expect(g.shape).toEqual([3, 224, 224]);
      let worst = 0;
      g.head.forEach((v, i) => (worst = Math.max(worst, Math.abs(t[i]! - v))));
      g.strided.forEach((v, i) => (worst = Math.max(worst, Math.abs(t[i * g.stride]! - v))));
      expect(worst, `${g.file}: max abs diff ${worst}`).toBeLessThan(1e-3);
      const sum = t.reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - g.sum) / t.length, `${g.file}: mean diff`).toBeLessThan(1e-5);
    }
  });
});
