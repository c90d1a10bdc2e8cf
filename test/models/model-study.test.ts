/**
 * The study's table and the model card on real tools and the tiny
 * CelebA-layout set (coloured shapes, not faces: no accuracy claim):
 * `compare` trains, exports, evaluates and times resnet50, resnet18,
 * mobilenet_v2 and efficientnet_b0 on one split and prints the Markdown
 * table; each exported model is served by the inference service over the
 * bus; `evaluate --attach-card` puts the card in the manifest and
 * GET /api/models serves exactly that card; an int8 ResNet50 is exported
 * with calibration images, its fp32 agreement printed, and served.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@crowdlens/runtime';
import type { ModelCard, ModelManifest, RgbImage } from '@crowdlens/models';
import { faceCrops224, PYTHON_ENV_TIMEOUT_MS, runTool, toolsPython } from './python-tools';
import { serveOverBus } from './serve-over-bus';

const ARCHS = ['resnet50', 'resnet18', 'mobilenet_v2', 'efficientnet_b0'] as const;
const work = mkdtempSync(join(tmpdir(), 'crowdlens-study-'));
const celeba = join(work, 'celeba');
const runs = join(work, 'runs');
let table = '';
let crops: RgbImage[] = [];

beforeAll(
  async () => {
    await toolsPython();
    await runTool('make_tiny_celeba', ['--out', celeba, '--count', '40']);
    // One short step per architecture: this checks the pipeline and the table, never accuracy.
    table = (
      await runTool(
        'compare',
        [
          ...['--data', celeba, '--subset', '40', '--archs', ARCHS.join(','), '--out', runs],
          ...['--epochs', '1', '--max-steps', '1', '--batch-size', '4', '--workers', '0'],
          ...['--bench-batch', '4', '--bench-seconds', '0.5', '--no-progress'],
        ],
        40 * 60_000,
      )
    ).stdout;
    // Printed so that CI's log carries the table the issue note quotes (no accuracy claim: 1 step).
    process.stdout.write(`\ncrowdlens-tools compare on the tiny CelebA-layout set:\n${table}\n`);
    crops = await faceCrops224();
  },
  PYTHON_ENV_TIMEOUT_MS + 40 * 60_000,
);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const manifestOf = (path: string): ModelManifest =>
  JSON.parse(readFileSync(`${path}.manifest.json`, 'utf8')) as ModelManifest;

/**
 * Attribute values and partition of each unique image of the tiny set, read from its own label files
 * and hashed here (not by the tools); a byte copy of an earlier file is left out, as the tools do.
 */
function celebaLabels(): { partition: Map<string, number>; attr: Map<string, Record<string, number>> } {
  const lines = readFileSync(join(celeba, 'list_attr_celeba.txt'), 'utf8').trim().split('\n');
  const header = lines[1]!.trim().split(/\s+/);
  const attr = new Map<string, Record<string, number>>();
  for (const line of lines.slice(2)) {
    const [name, ...values] = line.trim().split(/\s+/);
    attr.set(name!, Object.fromEntries(header.map((h, i) => [h, Number(values[i])])));
  }
  const partition = new Map<string, number>();
  const seen = new Set<string>();
  for (const line of readFileSync(join(celeba, 'list_eval_partition.txt'), 'utf8').trim().split('\n')) {
    const [name, p] = line.trim().split(/\s+/);
    const hash = createHash('md5')
      .update(readFileSync(join(celeba, 'img_align_celeba', name!)))
      .digest('hex');
    if (seen.has(hash)) continue;
    seen.add(hash);
    partition.set(name!, Number(p));
  }
  return { partition, attr };
}

describe('compare: the study table on the tiny CelebA-layout set', () => {
  it('prints a Markdown row per architecture with parameters, accuracy, per-class F1 and images/s', () => {
    const rows = table.split('\n').filter((l) => /^\| [a-z]/.test(l) && !l.startsWith('| architecture'));
    expect(table).toMatch(/^\| architecture \| parameters \| initial weights \| accuracy \| F1 female \| F1 male \|/m);
    expect(rows.map((r) => r.split('|')[1]!.trim())).toEqual([...ARCHS]);
    const params: Record<string, number> = {};
    for (const row of rows) {
      const cells = row.split('|').map((c) => c.trim());
      params[cells[1]!] = Number(cells[2]!.replace(' M', ''));
      expect(cells[3]).toBe('random init');
      for (const i of [4, 5, 6, 7]) {
        expect(Number(cells[i])).toBeGreaterThanOrEqual(0);
        expect(Number(cells[i])).toBeLessThanOrEqual(1);
      }
      expect(Number(cells[8])).toBeGreaterThan(0);
    }
    // torchvision's parameter counts with a 2-logit head (independent of the tools' arithmetic).
    expect(params).toEqual({ resnet50: 23.5, resnet18: 11.2, mobilenet_v2: 2.2, efficientnet_b0: 4.0 });
    expect(table).toMatch(/1 epoch\(s\), 1 step\(s\) each: not the study's 10-epoch recipe/);
  });

  it.each(ARCHS)('%s: exported, passes the manifest checks and is served over the bus with its card', async (arch) => {
    const model = join(runs, `${arch}.onnx`);
    const served = await serveOverBus(model, work, crops);
    expect(served.predictions.map((p) => p.predictionId).sort()).toEqual(crops.map((_, i) => `crop-${i}`).sort());
    const manifest = manifestOf(model);
    for (const p of served.predictions) {
      expect(p.probMale).toBeGreaterThanOrEqual(0);
      expect(p.probMale).toBeLessThanOrEqual(1);
      expect(p.model).toEqual({ name: manifest.name, version: `compare-${arch}` });
    }
    expect(manifest.architecture).toMatch(new RegExp(`^torchvision ${arch}, `));
    expect(served.anonymousStatus).toBe(401);
    expect(served.models.active).toMatchObject({ name: manifest.name, measured: true, precision: 'fp32' });
    expect(served.models.active.card).toEqual(manifest.card);
  });
});

describe('model card: evaluate -> manifest -> GET /api/models', () => {
  it(
    'serves the card evaluate wrote, and its counts match the label files',
    async () => {
      const model = join(runs, 'resnet18.onnx');
      const cardPath = join(work, 'resnet18.card.json');
      const out = await runTool('evaluate', [
        ...['--model', model, '--data', celeba, '--split', 'test', '--unknown-margin', '0.05'],
        ...['--card', cardPath, '--attach-card', '--no-progress'],
      ]);
      const card = JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard;
      expect(out.stdout).toContain(`Accuracy: ${card.accuracy.toFixed(4)}`);

      // Independent of the tools: the test partition's unique images, from the label files. The tiny set's
      // last two files are byte copies of training images with a valid/test partition: held-out they are not.
      const { partition, attr } = celebaLabels();
      const test = [...partition.entries()].filter(([, p]) => p === 2).map(([n]) => n);
      expect(card.data.images).toBe(test.length);
      const males = test.filter((n) => attr.get(n)!.Male === 1).length;
      const cm = card.confusionMatrix.rowsTrueColumnsPredicted;
      expect(cm[1][0] + cm[1][1]).toBe(males);
      expect(cm[0][0] + cm[0][1]).toBe(test.length - males);
      expect(card.perClass.male.support).toBe(males);
      expect(card.accuracy).toBeCloseTo((cm[0][0] + cm[1][1]) / test.length, 12);
      const predictedMale = cm[0][1] + cm[1][1];
      expect(card.perClass.male.precision).toBeCloseTo(predictedMale ? cm[1][1] / predictedMale : 0, 12);
      expect(card.calibration.bins.reduce((a, b) => a + b.count, 0)).toBe(test.length);
      expect(card.decision).toMatchObject({ threshold: 0.5, unknownMargin: 0.05 });
      const young = card.groups.find((g) => g.attribute === 'Young' && g.value);
      expect(young?.count).toBe(test.filter((n) => attr.get(n)!.Young === 1).length);
      expect(new Set(card.groups.map((g) => g.attribute))).toEqual(
        new Set(['Young', 'Eyeglasses', 'Pale_Skin', 'Heavy_Makeup', 'Wearing_Hat', 'Bald', 'Gray_Hair', 'Blurry']),
      );

      const served = await serveOverBus(model, work, crops.slice(0, 1));
      expect(served.models.active.card).toEqual(card);
      expect(served.models.active.headline).toBe(
        `accuracy ${(card.accuracy * 100).toFixed(1)}% on ${card.data.images} images (test, measured ${card.measuredAt.slice(0, 10)})`,
      );
    },
    15 * 60_000,
  );

  it(
    'serves a model without a card as "unmeasured", said plainly',
    async () => {
      const model = join(work, 'bare.onnx');
      await runTool('export', ['--random-init', '--arch', 'mobilenet_v2', '--out', model]);
      expect(manifestOf(model).card).toBeUndefined();
      const served = await serveOverBus(model, work, crops.slice(0, 1));
      expect(served.models.active).toMatchObject({
        measured: false,
        card: null,
        name: 'crowdlens-mobilenet-v2-gender',
      });
      expect(served.models.active.headline).toMatch(/^unmeasured: this model carries no model card/);
    },
    15 * 60_000,
  );
});

describe('int8 ResNet50', () => {
  it(
    'exports with calibration images, prints its fp32 agreement, and is served over the bus',
    async () => {
      const model = join(work, 'resnet50-int8.onnx');
      const out = await runTool('export', [
        ...['--checkpoint', join(runs, 'resnet50.pth'), '--out', model, '--precision', 'int8'],
        // Barely trained on shapes: agreement is measured and printed, but the gate is opened for this test.
        ...['--calibration-data', celeba, '--calibration-images', '16', '--min-agreement', '0'],
      ]);
      const agreement =
        /int8 vs fp32 on (\d+) held-out images: top-1 agreement ([0-9.]+), max P\(male\) difference ([0-9.]+)/.exec(
          out.stdout,
        );
      expect(agreement, out.stdout).not.toBeNull();
      const manifest = manifestOf(model);
      expect(manifest.precision).toBe('int8');
      const record = (manifest.source as { precision?: { agreementWithFp32?: { top1Agreement: number } } }).precision;
      expect(record?.agreementWithFp32?.top1Agreement).toBe(Number(agreement![2]));
      // Calibration takes train-partition images; agreement is measured on every unique valid/test one.
      const heldOut = [...celebaLabels().partition.values()].filter((p) => p !== 0).length;
      expect(Number(agreement![1])).toBe(heldOut);

      const served = await serveOverBus(model, work, crops);
      expect(served.predictions).toHaveLength(crops.length);
      expect(served.models.active).toMatchObject({ precision: 'int8', measured: false });
    },
    15 * 60_000,
  );

  it(
    'refuses to write an int8 model whose agreement with fp32 falls below --min-agreement, and leaves no file',
    async () => {
      // A graph built so that int8 must disagree: its two logits differ by less than one step of the
      // quantised output, so fp32 ranks them by the sign of the pooled red channel and int8 ties them.
      const fp32 = join(work, 'tied-logits.onnx');
      const int8 = join(work, 'tied-logits-int8.onnx');
      const script = [
        'import sys, numpy as np, onnx',
        'from onnx import helper, TensorProto, numpy_helper',
        'from crowdlens_tools.precision import lower_precision',
        'W = np.array([[1.0, 0, 0], [1.002, 0, 0]], dtype=np.float32)',
        'nodes = [helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),',
        '         helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),',
        '         helper.make_node("Gemm", ["flat", "W"], ["logits"], transB=1)]',
        'g = helper.make_graph(nodes, "tied", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 224, 224])],',
        '    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])], [numpy_helper.from_array(W, "W")])',
        'm = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]); m.ir_version = 8',
        'onnx.save(m, sys.argv[1])',
        'lower_precision("int8", sys.argv[1], sys.argv[2], sys.argv[3], 16, 200, 0.98)',
      ].join('\n');
      const py = await toolsPython();
      const failure = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolveRun) => {
        execFile(
          py,
          ['-c', script, fp32, int8, celeba],
          { cwd: join(repoRoot(), 'tools'), timeout: 5 * 60_000 },
          (err, stdout, stderr) =>
            resolveRun({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
        );
      });
      expect(failure.code, failure.stderr).toBe(2);
      const measured = /int8 vs fp32 on (\d+) held-out images: top-1 agreement ([0-9.]+)/.exec(failure.stdout);
      expect(measured, failure.stdout).not.toBeNull();
      expect(Number(measured![2])).toBeLessThan(0.98);
      expect(failure.stderr).toMatch(
        /int8 agrees with fp32 on [0-9.]+ of held-out images, below --min-agreement 0\.98: not writing/,
      );
      expect(existsSync(int8)).toBe(false);
      expect(readdirSync(work).filter((f) => f.startsWith('tied-logits-int8'))).toEqual([]);
    },
    5 * 60_000,
  );

  it(
    'refuses bf16 at once, saying why',
    async () => {
      await expect(
        runTool('export', ['--random-init', '--out', join(work, 'bf16.onnx'), '--precision', 'bf16']),
      ).rejects.toThrow(/bf16: onnxruntime's CPU provider has no bfloat16 Conv\/Gemm kernels/);
    },
    5 * 60_000,
  );
});
