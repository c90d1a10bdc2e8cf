/**
 * ResNet50 inference throughput on ONNX Runtime (CPU), three ways in one run:
 *   - bare `session.run` on a ready NCHW tensor, batch 32 (the ceiling);
 *   - bare `session.run`, batch 1 (no batching);
 *   - the service path: single 224x224 crops submitted to DynamicBatcher
 *     (maxBatch 32) feeding OnnxGenderClassifier (preprocessing + run + softmax);
 * plus OnnxGenderClassifier.classify on whole batches of 32, to separate
 * preprocessing from batching. Printed as images/s, achieved GFLOP/s and the
 * ratio to bare batch 32.
 *
 *   npx tsc -p tsconfig.build.json && npx tsc-alias -p tsconfig.build.json
 *   node dist/bench/inference/resnet50-throughput.js [--model PATH] [--seconds 15] [--rounds 5] [--threads 2]
 *
 * Each row gets --seconds in total, measured in --rounds slices that
 * interleave the rows, so load from other processes hits all rows alike.
 *
 * Without --model it exports an untrained ResNet50 (random weights: speed is
 * all it is good for) with tools/crowdlens-tools into .cache/models/, which
 * creates the Python venv on first use.
 *
 * FLOPs: ResNet50 at 224x224 is ~4.1 G multiply-adds per image; counting an
 * FMA as 2 FLOPs (as the ~480 GFLOP/s peak in docs/machine-ceilings.md does) that is
 * 8.2 GFLOP per image.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createLogger, repoRoot } from '@crowdlens/runtime';
import {
  DynamicBatcher,
  OnnxGenderClassifier,
  TorchvisionPreprocessor,
  type BatchReport,
  type GenderScore,
  type RgbImage,
} from '@crowdlens/models';

const GFLOP_PER_IMAGE = 8.2; // 4.1 G multiply-adds x 2
const PEAK_GFLOPS = 480; // docs/machine-ceilings.md: fp32 FMA peak, 2 cores (AVX-512 + AMX machine kind)
const SIZE = 224;
const CHW = 3 * SIZE * SIZE;

const report = (line: string): void => void process.stdout.write(`${line}\n`);

interface Args {
  model: string;
  seconds: number;
  threads: number;
  maxWaitMs: number;
  rounds: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    model: join(repoRoot(), '.cache/models/resnet50-random.onnx'),
    seconds: 15,
    threads: availableParallelism(),
    maxWaitMs: 10,
    rounds: 5,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '');
    const value = argv[i + 1];
    if (name === 'model' && value) args.model = value;
    else if (
      (name === 'seconds' || name === 'threads' || name === 'rounds' || name === 'max-wait-ms') &&
      Number(value) > 0
    ) {
      args[name === 'max-wait-ms' ? 'maxWaitMs' : name] = Number(value);
    } else
      throw new Error(
        `usage: resnet50-throughput [--model PATH] [--seconds N] [--rounds N] [--threads N] [--max-wait-ms N] (bad: ${argv[i]})`,
      );
  }
  return args;
}

function ensureModel(path: string): void {
  if (existsSync(path) && existsSync(`${path}.manifest.json`)) return;
  report(`# exporting an untrained ResNet50 to ${path} (first run creates the Python venv: minutes)`);
  mkdirSync(join(path, '..'), { recursive: true });
  execFileSync(
    join(repoRoot(), 'tools/crowdlens-tools'),
    ['export', '--random-init', '--out', path, '--version', 'bench-random'],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
}

interface Row {
  readonly mode: string;
  readonly batch: string;
  readonly images: number;
  readonly seconds: number;
  readonly note?: string;
}

/** Runs `step` (which processes `perStep` images) until `seconds` have passed. */
async function timed(
  perStep: number,
  seconds: number,
  step: () => Promise<unknown>,
): Promise<{ images: number; seconds: number }> {
  const start = performance.now();
  let images = 0;
  do {
    await step();
    images += perStep;
  } while (performance.now() - start < seconds * 1000);
  return { images, seconds: (performance.now() - start) / 1000 };
}

function randomInput(n: number): Float32Array {
  const data = new Float32Array(n * CHW);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (s / 2 ** 32) * 4 - 2;
  }
  return data;
}

function randomCrops(n: number): RgbImage[] {
  return Array.from({ length: n }, (_, k) => {
    const data = new Uint8Array(CHW);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + k * 17) & 255;
    return { width: SIZE, height: SIZE, data };
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  ensureModel(args.model);
  const load0 = loadavg()[0]!;
  report(
    `# ResNet50 ONNX Runtime CPU throughput — onnxruntime-node ${ort.env.versions.node ?? '?'}, intraOpNumThreads ${args.threads}, ${availableParallelism()} cores`,
  );
  report(
    `# model ${args.model}; ${args.seconds}s per row in ${args.rounds} interleaved rounds; load average at start ${load0.toFixed(2)}`,
  );
  if (load0 > availableParallelism())
    report(
      `# WARNING: load average ${load0.toFixed(1)} > ${availableParallelism()} cores: other processes share the CPU, figures are low`,
    );

  const session = await ort.InferenceSession.create(args.model, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    executionProviders: ['cpu'],
  });
  const feeds = (n: number) => ({ input: new ort.Tensor('float32', randomInput(n), [n, 3, SIZE, SIZE]) });
  const feeds32 = feeds(32);
  const feeds1 = feeds(1);

  const logger = createLogger('warn', 'bench');
  const classifier = new OnnxGenderClassifier({ path: args.model, intraOpThreads: args.threads, logger });
  await classifier.load();
  const crops = randomCrops(64);
  const reports: BatchReport[] = [];
  const batcher = new DynamicBatcher<RgbImage, GenderScore>(
    { maxBatch: 32, maxWaitMs: args.maxWaitMs, queueCapacity: 256, maxInFlight: 1 },
    (items) => classifier.classify(items),
    { onBatch: (r) => reports.push(r) },
  );

  const modes: {
    mode: string;
    batch: string;
    perStep: number;
    warmup: number;
    step: () => Promise<unknown>;
    note?: string;
  }[] = [
    { mode: 'bare session.run', batch: '32', perStep: 32, warmup: 1, step: () => session.run(feeds32) },
    { mode: 'bare session.run', batch: '1', perStep: 1, warmup: 3, step: () => session.run(feeds1) },
    {
      mode: 'OnnxGenderClassifier.classify',
      batch: '32',
      perStep: 32,
      warmup: 1,
      step: () => classifier.classify(crops.slice(0, 32)),
      note: '+ preprocessing',
    },
    {
      mode: 'DynamicBatcher -> OnnxGenderClassifier',
      batch: '≤32',
      perStep: 64,
      warmup: 0,
      // Producers keep the queue full, as a busy inference consumer would: 64 crops submitted one by one.
      step: () => Promise.all(crops.map((c) => batcher.submit(c))),
    },
  ];
  // Rounds interleave the modes, so a burst of load from other processes hits them all alike.
  const totals = modes.map(() => ({ images: 0, seconds: 0 }));
  for (const m of modes) for (let i = 0; i < m.warmup; i++) await m.step();
  for (let round = 0; round < args.rounds; round++) {
    for (const [i, m] of modes.entries()) {
      const r = await timed(m.perStep, args.seconds / args.rounds, m.step);
      totals[i]!.images += r.images;
      totals[i]!.seconds += r.seconds;
    }
  }
  await batcher.close();
  await classifier.close();
  await session.release();
  const meanFill = reports.reduce((a, r) => a + r.fill, 0) / Math.max(reports.length, 1);
  const rows: Row[] = modes.map((m, i) => ({ mode: m.mode, batch: m.batch, ...totals[i]!, note: m.note }));
  rows[3] = { ...rows[3]!, note: `${reports.length} batches, mean fill ${(meanFill * 100).toFixed(0)}%` };

  const base = rows[0]!.images / rows[0]!.seconds;
  report('');
  report('| path | batch | images/s | ms/image | GFLOP/s (8.2/img) | % of ~480 peak | vs bare b32 | note |');
  report('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    const ips = r.images / r.seconds;
    const gflops = ips * GFLOP_PER_IMAGE;
    report(
      `| ${r.mode} | ${r.batch} | ${ips.toFixed(1)} | ${(1000 / ips).toFixed(1)} | ${gflops.toFixed(0)} | ${((gflops / PEAK_GFLOPS) * 100).toFixed(0)}% | ${(ips / base).toFixed(2)}x | ${r.note ?? ''} |`,
    );
  }
  // Preprocessing alone (224x224 crop -> normalised NCHW slot): the part the classifier adds to session.run.
  const pre = new TorchvisionPreprocessor();
  const buf = pre.allocate(32);
  const t0 = performance.now();
  for (let i = 0; i < 640; i++) pre.writeInto(crops[i % crops.length]!, buf, i % 32);
  const preUs = ((performance.now() - t0) * 1000) / 640;
  report('');
  report(
    `# preprocessing a 224x224 crop: ${preUs.toFixed(0)} µs/image (${((preUs / 1000 / (1000 / (rows[0]!.images / rows[0]!.seconds))) * 100).toFixed(1)}% of bare b32 time per image)`,
  );
  const load1 = loadavg()[0]!;
  report('');
  report(`# load average at end ${load1.toFixed(2)}`);
  const outDir = join(repoRoot(), 'bench/out');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'resnet50-throughput.json'),
    JSON.stringify(
      {
        when: new Date().toISOString(),
        args,
        loadavg: [load0, load1],
        preprocessUsPerImage: preUs,
        rows: rows.map((r) => ({ ...r, imagesPerSecond: r.images / r.seconds })),
      },
      null,
      2,
    ),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
