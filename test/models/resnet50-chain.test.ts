/**
 * The whole ResNet50 path on real tools: tiny CelebA folder -> train.py (one
 * step) -> .pth -> export.py -> ONNX + manifest -> OnnxGenderClassifier on
 * real face crops, and the same tensor through Python's onnxruntime. The
 * weights are barely trained: this checks plumbing and numerics, never
 * accuracy. Also: models the service must refuse.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DynamicBatcher,
  ModelValidationError,
  OnnxGenderClassifier,
  sha256File,
  TorchvisionPreprocessor,
  type ModelManifest,
  type RgbImage,
} from '@crowdlens/models';
import { faceCropCelebaSize, faceCrops224, PYTHON_ENV_TIMEOUT_MS, runTool, toolsPython } from './python-tools';
import sharp from 'sharp';
import { parseConfig } from '@crowdlens/config';
import { FACE_CROPS_TOPIC, GENDER_PREDICTIONS_TOPIC, type GenderPrediction } from '@crowdlens/contracts';
import { MESSAGE_BUS, type InMemoryBus } from '@crowdlens/bus';
import { createLogger } from '@crowdlens/runtime';
import { startCrowdLens } from '../../apps/embedded/src/bootstrap';

const work = mkdtempSync(join(tmpdir(), 'crowdlens-resnet50-'));
const celeba = join(work, 'celeba');
const checkpoint = join(work, 'resnet50.pth');
const model = join(work, 'resnet50.onnx');
const smallModel = join(work, 'resnet50-128.onnx');
let exportLog = '';
let crops: RgbImage[] = [];

beforeAll(
  async () => {
    await toolsPython();
    await runTool('make_tiny_celeba', ['--out', celeba, '--count', '24']);
    await runTool('train', [
      '--data',
      celeba,
      '--subset',
      '24',
      '--epochs',
      '1',
      '--max-steps',
      '1',
      '--batch-size',
      '4',
      '--max-eval',
      '4',
      '--workers',
      '0',
      '--no-progress',
      '--out',
      checkpoint,
    ]);
    exportLog = (await runTool('export', ['--checkpoint', checkpoint, '--out', model, '--version', 'test-chain']))
      .stdout;
    await runTool('export', ['--random-init', '--input-size', '128', '--out', smallModel]);
    crops = [...(await faceCrops224()), await faceCropCelebaSize()];
  },
  PYTHON_ENV_TIMEOUT_MS + 10 * 60_000,
);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const manifestOf = (path: string): ModelManifest =>
  JSON.parse(readFileSync(`${path}.manifest.json`, 'utf8')) as ModelManifest;

async function refusal(options: ConstructorParameters<typeof OnnxGenderClassifier>[0]): Promise<ModelValidationError> {
  const classifier = new OnnxGenderClassifier(options);
  try {
    await classifier.load();
  } catch (err) {
    expect(err).toBeInstanceOf(ModelValidationError);
    return err as ModelValidationError;
  }
  await classifier.close();
  throw new Error('the model was accepted');
}

describe('ResNet50: train -> export -> serve', () => {
  it('export checks ONNX Runtime against PyTorch and writes a manifest with the sha256', async () => {
    const diff = /max abs diff ONNX Runtime vs PyTorch: ([0-9.e+-]+)/.exec(exportLog);
    expect(diff, exportLog).not.toBeNull();
    expect(Number(diff![1])).toBeLessThanOrEqual(1e-3);
    const m = manifestOf(model);
    expect(m.sha256).toBe(await sha256File(model));
    expect(m.labels).toEqual(['female', 'male']);
    expect(m.input.shape).toEqual(['N', 3, 224, 224]);
    expect(m.opset).toBe(17);
    expect(m.source.checkpoint).toBe(checkpoint);
  });

  it('serves the exported model: one P(male) in [0,1] per crop, info from the manifest', async () => {
    const classifier = new OnnxGenderClassifier({ path: model, intraOpThreads: 2 });
    await classifier.load();
    try {
      expect(classifier.info).toEqual({
        name: 'crowdlens-resnet50-gender',
        version: 'test-chain',
        runtime: 'onnxruntime-cpu',
        // The served file's own checksum (what crowdlens_model_info reports).
        sha256: createHash('sha256').update(readFileSync(model)).digest('hex'),
        architecture: 'torchvision resnet50, fc 2048->2',
        precision: 'fp32',
        card: null,
      });
      const scores = await classifier.classify(crops);
      expect(scores).toHaveLength(crops.length);
      for (const s of scores) {
        expect(Number.isFinite(s.probMale)).toBe(true);
        expect(s.probMale).toBeGreaterThanOrEqual(0);
        expect(s.probMale).toBeLessThanOrEqual(1);
      }
      // Batching must not change a result: one at a time equals the batch.
      const single = await classifier.classify([crops[1]!]);
      expect(single[0]!.probMale).toBeCloseTo(scores[1]!.probMale, 5);
      expect(await classifier.classify([])).toEqual([]);
    } finally {
      await classifier.close();
    }
  });

  it('gives the same logits as Python onnxruntime on the same preprocessed tensor (1e-4)', async () => {
    const pre = new TorchvisionPreprocessor();
    const input = pre.allocate(crops.length);
    crops.forEach((c, i) => pre.writeInto(c, input, i));
    const inputPath = join(work, 'batch.f32');
    writeFileSync(inputPath, Buffer.from(input.buffer, input.byteOffset, input.byteLength));
    const outPath = join(work, 'python-logits.json');
    await runTool('infer', ['--model', model, '--input', inputPath, '--n', String(crops.length), '--out', outPath]);
    const py = JSON.parse(readFileSync(outPath, 'utf8')) as { logits: number[][]; probMale: number[] };

    const classifier = new OnnxGenderClassifier({ path: model });
    await classifier.load();
    try {
      const logits = await classifier.logits(crops);
      const scores = await classifier.classify(crops);
      py.logits.forEach(([female, male], i) => {
        expect(Math.abs(logits[2 * i]! - female!)).toBeLessThan(1e-4);
        expect(Math.abs(logits[2 * i + 1]! - male!)).toBeLessThan(1e-4);
        expect(Math.abs(scores[i]!.probMale - py.probMale[i]!)).toBeLessThan(1e-4);
      });
    } finally {
      await classifier.close();
    }
  });

  it('runs behind the DynamicBatcher, two batches in flight: every crop gets its own score', async () => {
    const classifier = new OnnxGenderClassifier({ path: model });
    await classifier.load();
    const reports: number[] = [];
    const batcher = new DynamicBatcher<RgbImage, { probMale: number }>(
      // Two batches in flight: each must preprocess into its own input buffer.
      { maxBatch: 3, maxWaitMs: 20, queueCapacity: 16, maxInFlight: 2 },
      (items) => classifier.classify(items),
      { onBatch: (r) => reports.push(r.size) },
    );
    try {
      const direct = await classifier.classify(crops);
      const viaBatcher = await Promise.all([...crops, ...crops].map((c) => batcher.submit(c)));
      await batcher.close();
      expect(viaBatcher).toHaveLength(2 * crops.length);
      viaBatcher.forEach((s, i) => expect(s.probMale).toBeCloseTo(direct[i % crops.length]!.probMale, 5));
      expect(reports.reduce((a, b) => a + b, 0)).toBe(2 * crops.length);
      expect(Math.max(...reports)).toBeLessThanOrEqual(3);
    } finally {
      await classifier.close();
    }
  });

  it('falls back to CPU with exactly one warning when a GPU provider is unavailable', async () => {
    const logger = { info: vi.fn(), warn: vi.fn() };
    const classifier = new OnnxGenderClassifier({ path: model, executionProvider: 'cuda', logger });
    await classifier.load();
    try {
      if (classifier.info.runtime === 'onnxruntime-cuda') {
        expect(logger.warn).not.toHaveBeenCalled(); // a GPU host with the CUDA EP installed
      } else {
        expect(classifier.info.runtime).toBe('onnxruntime-cpu');
        expect(logger.warn).toHaveBeenCalledTimes(1);
        expect(logger.warn.mock.calls[0]![1]).toMatch(/"cuda" is unavailable, falling back to CPU/);
      }
      expect(await classifier.classify(crops.slice(0, 1))).toHaveLength(1);
    } finally {
      await classifier.close();
    }
  });
});

describe('ResNet50: models the service refuses', () => {
  it('refuses a 128x128 graph exported with its own (honest) manifest: contract violation', async () => {
    const err = await refusal({ path: smallModel });
    expect(err.problem).toBe('contract-violation');
    expect(err.message).toMatch(/model input is 128x128, the model contract requires 224x224/);
  });

  it('refuses a 128x128 graph whose manifest claims 224x224: graph mismatch', async () => {
    const manifestPath = join(work, 'lying.manifest.json');
    // The honest 224 manifest's claims, with the 128 graph's real sha256: only the graph can tell.
    writeFileSync(manifestPath, JSON.stringify({ ...manifestOf(model), sha256: manifestOf(smallModel).sha256 }));
    const err = await refusal({ path: smallModel, manifest: manifestPath });
    expect(err.problem).toBe('graph-mismatch');
    expect(err.message).toMatch(/input "input" has shape \[N,3,128,128\], the manifest says \[N,3,224,224\]/);
  });

  it('refuses a truncated model file: sha256 mismatch', async () => {
    const path = join(work, 'truncated.onnx');
    copyFileSync(model, path);
    copyFileSync(`${model}.manifest.json`, `${path}.manifest.json`);
    truncateSync(path, 1_000_000);
    const err = await refusal({ path });
    expect(err.problem).toBe('sha256-mismatch');
    expect(err.message).toContain(manifestOf(model).sha256);
  });

  it('refuses a corrupt file even when the manifest hashes it: onnxruntime cannot open it', async () => {
    const path = join(work, 'corrupt.onnx');
    copyFileSync(model, path);
    truncateSync(path, 1_000_000);
    writeFileSync(`${path}.manifest.json`, JSON.stringify({ ...manifestOf(model), sha256: await sha256File(path) }));
    const err = await refusal({ path });
    expect(err.problem).toBe('model-corrupt');
    expect(err.message).toMatch(/onnxruntime cannot open the model/);
  });

  it('refuses a manifest whose sha256 belongs to another file, swapped labels, and a missing manifest', async () => {
    const shaPath = join(work, 'other-sha.manifest.json');
    writeFileSync(shaPath, JSON.stringify({ ...manifestOf(model), sha256: manifestOf(smallModel).sha256 }));
    expect((await refusal({ path: model, manifest: shaPath })).problem).toBe('sha256-mismatch');

    const labelsPath = join(work, 'labels.manifest.json');
    writeFileSync(labelsPath, JSON.stringify({ ...manifestOf(model), labels: ['male', 'female'] }));
    const labels = await refusal({ path: model, manifest: labelsPath });
    expect(labels.problem).toBe('labels-mismatch');
    expect(labels.message).toMatch(/labels \["male","female"\]/);

    expect((await refusal({ path: model, manifest: join(work, 'absent.json') })).problem).toBe('manifest-missing');
  });
});

describe('ResNet50 in the inference service', () => {
  it('serves crops from the bus and publishes one prediction per crop, tagged with the model', async () => {
    const config = parseConfig({
      role: 'inference',
      dataDir: work,
      http: { port: 0, host: '127.0.0.1' },
      model: { type: 'onnx', path: model, intraOpThreads: 2 },
      batcher: { maxBatch: 4, maxWaitMs: 20, queueCapacity: 64, maxInFlight: 1 },
    });
    const running = await startCrowdLens(config, createLogger('warn'));
    try {
      const bus = running.app.get<InMemoryBus>(MESSAGE_BUS);
      const out: GenderPrediction[] = [];
      await bus.subscribe(GENDER_PREDICTIONS_TOPIC, { group: 'test' }, async (p) => void out.push(p));
      const jpegs = await Promise.all(
        crops
          .filter((c) => c.width === 224 && c.height === 224)
          .map((c) =>
            sharp(Buffer.from(c.data), { raw: { width: 224, height: 224, channels: 3 } })
              .jpeg()
              .toBuffer(),
          ),
      );
      for (let i = 0; i < 10; i++) {
        await bus.publish(FACE_CROPS_TOPIC, {
          schemaVersion: 1,
          cropId: `crop-${i}`,
          cameraId: 'cam',
          trackId: `t-${i % 3}`,
          frameTs: 1_795_000_000_000 + i,
          box: { x: 1, y: 1, width: 50, height: 50 },
          detectionScore: 0.9,
          quality: 0.7,
          width: 224,
          height: 224,
          jpeg: new Uint8Array(jpegs[i % jpegs.length]!),
        });
      }
      const deadline = Date.now() + 60_000;
      while (out.length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(out.map((p) => p.predictionId).sort()).toEqual([...Array(10).keys()].map((i) => `crop-${i}`).sort());
      for (const p of out) {
        expect(p.probMale).toBeGreaterThanOrEqual(0);
        expect(p.probMale).toBeLessThanOrEqual(1);
        expect(p.model).toEqual({ name: manifestOf(model).name, version: 'test-chain' });
      }
      // The same JPEG gives the same probability whatever batch it ran in.
      const byImage = new Map<number, number>();
      out.forEach((p) => {
        const img = Number(p.predictionId.split('-')[1]) % jpegs.length;
        if (byImage.has(img)) expect(p.probMale).toBeCloseTo(byImage.get(img)!, 5);
        else byImage.set(img, p.probMale);
      });
    } finally {
      await running.close();
    }
  });

  it('refuses to start with a model whose input size breaks the contract, naming the problem', async () => {
    const config = parseConfig({
      role: 'inference',
      dataDir: work,
      http: { port: 0, host: '127.0.0.1' },
      model: { type: 'onnx', path: smallModel },
    });
    await expect(startCrowdLens(config, createLogger('silent'))).rejects.toThrow(/224|128/);
  });
});
