/**
 * The architectures model-study.test.ts does not train (googlenet, vgg19,
 * convnext_tiny, vit_b_16): each exports (random weights: plumbing only),
 * passes the manifest and graph checks, and is served by the inference
 * service over the bus, reporting itself at GET /api/models as unmeasured.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelManifest, RgbImage } from '@crowdlens/models';
import { faceCrops224, PYTHON_ENV_TIMEOUT_MS, runTool, toolsPython } from './python-tools';
import { serveOverBus } from './serve-over-bus';

const ARCHS = {
  googlenet: 'torchvision googlenet, fc 1024->2',
  vgg19: 'torchvision vgg19, classifier.6 4096->2',
  convnext_tiny: 'torchvision convnext_tiny, classifier.2 768->2',
  vit_b_16: 'torchvision vit_b_16, heads.head 768->2',
} as const;
const work = mkdtempSync(join(tmpdir(), 'crowdlens-archs-'));
let crops: RgbImage[] = [];

beforeAll(async () => {
  await toolsPython();
  crops = await faceCrops224();
}, PYTHON_ENV_TIMEOUT_MS);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('every architecture is served over the bus', () => {
  it.each(Object.entries(ARCHS))(
    '%s: exports with its head, passes the manifest checks, one prediction per crop',
    async (arch, architecture) => {
      const model = join(work, `${arch}.onnx`);
      await runTool('export', ['--random-init', '--arch', arch, '--out', model, '--version', `random-${arch}`]);
      const manifest = JSON.parse(readFileSync(`${model}.manifest.json`, 'utf8')) as ModelManifest;
      expect(manifest).toMatchObject({ architecture, precision: 'fp32', input: { shape: ['N', 3, 224, 224] } });
      const served = await serveOverBus(model, work, crops);
      expect(served.predictions.map((p) => p.predictionId).sort()).toEqual(crops.map((_, i) => `crop-${i}`));
      for (const p of served.predictions) {
        expect(p.probMale).toBeGreaterThanOrEqual(0);
        expect(p.probMale).toBeLessThanOrEqual(1);
        expect(p.model).toEqual({ name: `crowdlens-${arch.replace(/_/g, '-')}-gender`, version: `random-${arch}` });
      }
      expect(served.models.active).toMatchObject({ architecture, measured: false });
      rmSync(model); // vgg19 alone is 558 MB
    },
    15 * 60_000,
  );
});
