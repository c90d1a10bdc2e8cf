import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  loadManifest,
  ModelValidationError,
  verifyGraphAgainstManifest,
  verifyModelAgainstManifest,
  type GraphSignature,
  type ModelManifest,
} from './model-manifest';
import type { ModelCard } from './model-card';

const dir = mkdtempSync(join(tmpdir(), 'crowdlens-manifest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const modelBytes = Buffer.from('not really onnx, but hashed like one');
const modelPath = join(dir, 'model.onnx');
writeFileSync(modelPath, modelBytes);

const valid = (): ModelManifest => ({
  schemaVersion: 1,
  name: 'crowdlens-resnet50-gender',
  version: 'test-1',
  architecture: 'torchvision resnet50, fc 2048->2',
  precision: 'fp32',
  format: 'onnx',
  opset: 17,
  input: { name: 'input', shape: ['N', 3, 224, 224], layout: 'NCHW', dtype: 'float32', colorSpace: 'RGB' },
  preprocessing: {
    resize: { size: 224, mode: 'shorter-side', interpolation: 'bilinear', antialias: true, backend: 'pil' },
    centerCrop: 224,
    scale: 1 / 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  },
  labels: ['female', 'male'],
  output: { name: 'logits', shape: ['N', 2], kind: 'logits' },
  sha256: createHash('sha256').update(modelBytes).digest('hex'),
  source: { tool: 'test', framework: 'none', checkpoint: null, initialWeights: 'random-init', dataset: null },
  created: '2026-01-01T00:00:00Z',
});

/** A card as model_card.py writes it, measured on the file with `sha256`. */
const card = (sha256: string): ModelCard => ({
  cardVersion: 1,
  model: { name: 'crowdlens-resnet50-gender', version: 'test-1', sha256, file: 'model.onnx' },
  data: { source: '/data/celeba', split: 'test', images: 10 },
  measuredAt: '2026-01-02T00:00:00Z',
  accuracy: 0.8,
  perClass: {
    female: { precision: 0.8, recall: 0.8, f1: 0.8, support: 5 },
    male: { precision: 0.8, recall: 0.8, f1: 0.8, support: 5 },
  },
  confusionMatrix: {
    labels: ['female', 'male'],
    rowsTrueColumnsPredicted: [
      [4, 1],
      [1, 4],
    ],
  },
  calibration: { ece: 0.05, bins: [{ lower: 0.5, upper: 1, count: 10, meanConfidence: 0.85, accuracy: 0.8 }] },
  decision: { threshold: 0.5, unknownMargin: 0.1, decidedShare: 0.9, accuracyWhenDecided: 0.85 },
  groups: [{ attribute: 'Young', value: true, count: 6, accuracy: 5 / 6 }],
});

let n = 0;
const writeManifest = (content: unknown): string => {
  const path = join(dir, `m${n++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

async function problemOf(p: Promise<unknown>): Promise<{ problem: string; message: string }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ModelValidationError);
    const e = err as ModelValidationError;
    return { problem: e.problem, message: e.message };
  }
  throw new Error('expected a ModelValidationError');
}

const check = async (m: unknown) => {
  const path = writeManifest(m);
  return problemOf(loadManifest(path, modelPath).then((parsed) => verifyModelAgainstManifest(modelPath, parsed, path)));
};

describe('loadManifest + verifyModelAgainstManifest', () => {
  it('accepts a manifest that states the contract and hashes the file', async () => {
    const path = writeManifest(valid());
    const m = await loadManifest(path);
    await expect(verifyModelAgainstManifest(modelPath, m, path)).resolves.toBeUndefined();
    expect(m.source.initialWeights).toBe('random-init');
  });

  it('refuses a missing manifest and one that is not JSON', async () => {
    const missing = await problemOf(loadManifest(join(dir, 'nope.json'), modelPath));
    expect(missing.problem).toBe('manifest-missing');
    // The fix, with this model's path, in the message a person reads at start.
    expect(missing.message).toContain(
      `run tools/crowdlens-tools export --checkpoint <your-checkpoint.pth> --out ${modelPath}`,
    );
    expect(await problemOf(loadManifest(writeManifest('{ nope')))).toMatchObject({
      problem: 'manifest-invalid',
      message: /not JSON/,
    });
  });

  it('names the field of a schema violation', async () => {
    const m = { ...valid(), input: { ...valid().input, layout: 'NHWC' } };
    const r = await check(m);
    expect(r.problem).toBe('manifest-invalid');
    expect(r.message).toMatch(/input\.layout/);
    expect((await check({ ...valid(), sha256: 'abc' })).message).toMatch(/sha256/);
  });

  it('refuses swapped or renamed labels', async () => {
    const r = await check({ ...valid(), labels: ['male', 'female'] });
    expect(r.problem).toBe('labels-mismatch');
    expect(r.message).toMatch(/\["male","female"\].*\["female","male"\]/);
  });

  it('refuses an input size or normalisation other than the contract', async () => {
    const small = await check({ ...valid(), input: { ...valid().input, shape: ['N', 3, 128, 128] } });
    expect(small).toMatchObject({ problem: 'contract-violation', message: /128x128.*224x224/ });
    const pre = { ...valid().preprocessing, mean: [0.5, 0.5, 0.5] };
    expect(await check({ ...valid(), preprocessing: pre })).toMatchObject({
      problem: 'contract-violation',
      message: /mean/,
    });
  });

  it('reads an older manifest without precision as fp32, and refuses a precision the service cannot run', async () => {
    const { precision: _omitted, ...old } = valid();
    const m = await loadManifest(writeManifest(old), modelPath);
    expect(m.precision).toBe('fp32');
    const bf16 = await check({ ...valid(), precision: 'bf16' });
    expect(bf16).toMatchObject({ problem: 'manifest-invalid', message: /precision/ });
  });

  it('accepts a model card measured on this file and refuses one measured on another', async () => {
    const ok = writeManifest({ ...valid(), card: card(valid().sha256) });
    const m = await loadManifest(ok, modelPath);
    await expect(verifyModelAgainstManifest(modelPath, m, ok)).resolves.toBeUndefined();
    expect(m.card?.accuracy).toBe(0.8);
    const other = await check({ ...valid(), card: card('e'.repeat(64)) });
    expect(other).toMatchObject({ problem: 'contract-violation', message: /card was measured on another file/ });
    // A card missing its calibration is not a card.
    const { calibration: _c, ...partial } = card(valid().sha256);
    expect(await check({ ...valid(), card: partial })).toMatchObject({
      problem: 'manifest-invalid',
      message: /card\.calibration/,
    });
  });

  it('refuses a model file whose sha256 differs, and a missing model file', async () => {
    const r = await check({ ...valid(), sha256: 'f'.repeat(64) });
    expect(r.problem).toBe('sha256-mismatch');
    expect(r.message).toContain('f'.repeat(64));
    const m = valid();
    expect(await problemOf(verifyModelAgainstManifest(join(dir, 'missing.onnx'), m))).toMatchObject({
      problem: 'model-missing',
    });
  });
});

describe('verifyGraphAgainstManifest', () => {
  const graph = (
    inputShape: (number | string)[],
    outputShape: (number | string)[] = ['N', 2],
    inputName = 'input',
  ): GraphSignature => ({
    inputs: [{ name: inputName, isTensor: true, type: 'float32', shape: inputShape }],
    outputs: [{ name: 'logits', isTensor: true, type: 'float32', shape: outputShape }],
  });
  const verify = (g: GraphSignature) => () => verifyGraphAgainstManifest(g, valid(), 'model.onnx');

  it('accepts the exported ResNet50 signature (symbolic batch, any symbol name)', () => {
    expect(verify(graph(['N', 3, 224, 224]))).not.toThrow();
    expect(verify(graph(['batch', 3, 224, 224], [-1, 2]))).not.toThrow();
  });

  it('refuses a graph whose input size disagrees with the manifest', () => {
    expect(verify(graph(['N', 3, 128, 128]))).toThrow(/shape \[N,3,128,128\], the manifest says \[N,3,224,224\]/);
  });

  it('refuses a fixed batch, a renamed input, a 3-class output and a missing output', () => {
    expect(verify(graph([1, 3, 224, 224]))).toThrow(/\[1,3,224,224\]/);
    expect(verify(graph(['N', 3, 224, 224], ['N', 2], 'pixel_values'))).toThrow(/"pixel_values"/);
    expect(verify(graph(['N', 3, 224, 224], ['N', 3]))).toThrow(/output "logits" has shape \[N,3\]/);
    const noLogits: GraphSignature = {
      ...graph(['N', 3, 224, 224]),
      outputs: [{ name: 'probs', isTensor: true, type: 'float32', shape: ['N', 2] }],
    };
    expect(verify(noLogits)).toThrow(/no output "logits"/);
  });

  it('tags the error as a graph mismatch', () => {
    try {
      verify(graph(['N', 3, 128, 128]))();
    } catch (err) {
      expect((err as ModelValidationError).problem).toBe('graph-mismatch');
    }
  });
});
