/**
 * ResNet50 at lower precision on ONNX Runtime (CPU): fp32 (the baseline) and
 * int8 (static QDQ, per-channel weights) and fp16, timed in one run at the
 * same batch, plus their agreement with fp32 — on the held-out images the
 * export measured (read from each manifest) and on this run's real face crops.
 *
 *   npx tsc -p tsconfig.build.json && npx tsc-alias -p tsconfig.build.json
 *   node dist/bench/inference/precision-throughput.js [--fp32 PATH --int8 PATH [--fp16 PATH]] \
 *        [--batch 32] [--seconds 15] [--rounds 5] [--threads 2]
 *
 * Without paths it exports an untrained ResNet50 in fp32 and int8 into
 * .cache/models/ (same seed, so the same fp32 weights), calibrating int8 on
 * the tiny synthetic CelebA-layout set: speed is all those figures mean, and
 * their agreement is that of random weights on non-faces. fp16 is measured
 * only when given (--fp16 PATH): onnxruntime's CPU provider runs few float16
 * kernels, so it is a GPU format and crawls here. bf16 has no row:
 * onnxruntime's CPU provider has no bfloat16 convolution kernels (export
 * refuses it). Rows are measured in interleaved rounds so outside load hits
 * all alike; the ratio to fp32 is the figure to read.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { repoRoot } from '@crowdlens/runtime';
import { OnnxGenderClassifier, type RgbImage } from '@crowdlens/models';
import sharp from 'sharp';

const SIZE = 224;
const CHW = 3 * SIZE * SIZE;
const PRECISIONS = ['fp32', 'int8', 'fp16'] as const;
type Precision = (typeof PRECISIONS)[number];

const report = (line: string): void => void process.stdout.write(`${line}\n`);

interface Args {
  models: Partial<Record<Precision, string>>;
  batch: number;
  seconds: number;
  rounds: number;
  threads: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { models: {}, batch: 32, seconds: 15, rounds: 5, threads: availableParallelism() };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '') ?? '';
    const value = argv[i + 1];
    if ((PRECISIONS as readonly string[]).includes(name) && value) args.models[name as Precision] = value;
    else if (['batch', 'seconds', 'rounds', 'threads'].includes(name) && Number(value) > 0)
      args[name as 'batch' | 'seconds' | 'rounds' | 'threads'] = Number(value);
    else
      throw new Error(
        `usage: precision-throughput [--fp32 PATH] [--int8 PATH] [--fp16 PATH] [--batch N] [--seconds N] [--rounds N] [--threads N] (bad: ${argv[i]})`,
      );
  }
  return args;
}

function tools(args: string[]): void {
  execFileSync(join(repoRoot(), 'tools/crowdlens-tools'), args, { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** Untrained ResNet50 in fp32 and int8, from the same seed (same fp32 weights). */
function ensureModels(): Partial<Record<Precision, string>> {
  const dir = join(repoRoot(), '.cache/models');
  const tiny = join(dir, 'tiny-celeba');
  const paths: Record<'fp32' | 'int8', string> = {
    fp32: join(dir, 'resnet50-random.onnx'),
    int8: join(dir, 'resnet50-random-int8.onnx'),
  };
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(tiny, 'list_attr_celeba.txt'))) tools(['make_tiny_celeba', '--out', tiny, '--count', '100']);
  for (const p of ['fp32', 'int8'] as const) {
    if (existsSync(paths[p]) && existsSync(`${paths[p]}.manifest.json`)) continue;
    report(`# exporting an untrained ResNet50 (${p}) to ${paths[p]}`);
    tools([
      ...['export', '--random-init', '--seed', '0', '--out', paths[p], '--version', `bench-random-${p}`],
      ...(p === 'fp32' ? [] : ['--precision', p, '--calibration-data', tiny, '--min-agreement', '0']),
    ]);
  }
  return paths;
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

/** The three faces of face-api's sample photo, as ingest crops them. */
async function faceCrops(): Promise<RgbImage[]> {
  const photo = join(repoRoot(), 'node_modules/@vladmandic/face-api/demo/sample1.jpg');
  const boxes = [
    [360, 300, 330, 330],
    [786, 390, 300, 300],
    [1410, 165, 330, 330],
  ] as const;
  return Promise.all(
    boxes.map(async ([left, top, width, height]) => {
      const { data } = await sharp(photo)
        .extract({ left, top, width, height })
        .resize(SIZE, SIZE)
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { width: SIZE, height: SIZE, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    }),
  );
}

interface ExportAgreement {
  readonly images: number;
  readonly top1Agreement: number;
  readonly maxProbDiff: number;
}

function exportAgreement(path: string): ExportAgreement | null {
  const manifest = JSON.parse(readFileSync(`${path}.manifest.json`, 'utf8')) as {
    source?: { precision?: { agreementWithFp32?: ExportAgreement } | null };
  };
  return manifest.source?.precision?.agreementWithFp32 ?? null;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const models: Partial<Record<Precision, string>> = Object.keys(args.models).length ? args.models : ensureModels();
  if (!models.fp32) throw new Error('--fp32 PATH is the baseline and is required with explicit paths');
  const present = PRECISIONS.filter((p) => models[p]);
  const load0 = loadavg()[0]!;
  report(
    `# ResNet50 precision on ONNX Runtime CPU — onnxruntime-node ${ort.env.versions.node ?? '?'}, batch ${args.batch}, intraOpNumThreads ${args.threads}, ${availableParallelism()} cores`,
  );
  report(`# ${args.seconds}s per row in ${args.rounds} interleaved rounds; load average at start ${load0.toFixed(2)}`);
  if (load0 > availableParallelism())
    report(
      `# WARNING: load average ${load0.toFixed(1)} > ${availableParallelism()} cores: other processes share the CPU; read the ratios, not the absolute figures`,
    );

  const sessions = new Map<Precision, ort.InferenceSession>();
  for (const p of present) {
    sessions.set(
      p,
      await ort.InferenceSession.create(models[p]!, {
        graphOptimizationLevel: 'all',
        intraOpNumThreads: args.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        executionProviders: ['cpu'],
      }),
    );
  }
  const feeds = { input: new ort.Tensor('float32', randomInput(args.batch), [args.batch, 3, SIZE, SIZE]) };
  const totals = new Map(present.map((p) => [p, { images: 0, seconds: 0 }]));
  for (const s of sessions.values()) await s.run(feeds); // warm-up
  for (let round = 0; round < args.rounds; round++) {
    for (const p of present) {
      const start = performance.now();
      let images = 0;
      do {
        await sessions.get(p)!.run(feeds);
        images += args.batch;
      } while (performance.now() - start < (args.seconds / args.rounds) * 1000);
      const t = totals.get(p)!;
      t.images += images;
      t.seconds += (performance.now() - start) / 1000;
    }
  }
  for (const s of sessions.values()) await s.release();

  // Agreement on this run's real crops, through the service's own classifier (preprocessing included).
  const crops = await faceCrops();
  const probs = new Map<Precision, number[]>();
  for (const p of present) {
    const classifier = new OnnxGenderClassifier({ path: models[p]!, intraOpThreads: args.threads });
    await classifier.load();
    probs.set(
      p,
      (await classifier.classify(crops)).map((s) => s.probMale),
    );
    await classifier.close();
  }

  const ips = (p: Precision): number => totals.get(p)!.images / totals.get(p)!.seconds;
  const base = ips('fp32');
  report('');
  report(
    '| precision | images/s | ms/image | vs fp32 | export agreement (top-1, max ΔP, images) | face crops: top-1 agreement, max ΔP |',
  );
  report('| --- | ---: | ---: | ---: | --- | --- |');
  for (const p of present) {
    const a = exportAgreement(models[p]!);
    const mine = probs.get(p)!;
    const ref = probs.get('fp32')!;
    const same = mine.filter((v, i) => v >= 0.5 === ref[i]! >= 0.5).length;
    const maxDiff = Math.max(...mine.map((v, i) => Math.abs(v - ref[i]!)));
    report(
      `| ${p} | ${ips(p).toFixed(1)} | ${(1000 / ips(p)).toFixed(1)} | ${(ips(p) / base).toFixed(2)}x | ${
        p === 'fp32'
          ? 'baseline'
          : a
            ? `${a.top1Agreement.toFixed(3)}, ${a.maxProbDiff.toFixed(4)}, ${a.images}`
            : 'not recorded'
      } | ${p === 'fp32' ? 'baseline' : `${same}/${mine.length}, ${maxDiff.toFixed(4)}`} |`,
    );
  }
  report('');
  report('# bf16: no row — onnxruntime CPU has no bfloat16 Conv kernels; `export --precision bf16` refuses it.');
  const load1 = loadavg()[0]!;
  report(`# load average at end ${load1.toFixed(2)}`);
  const outDir = join(repoRoot(), 'bench/out');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'precision-throughput.json'),
    JSON.stringify(
      {
        when: new Date().toISOString(),
        args,
        models,
        loadavg: [load0, load1],
        rows: present.map((p) => ({
          precision: p,
          imagesPerSecond: ips(p),
          vsFp32: ips(p) / base,
          exportAgreement: exportAgreement(models[p]!),
          faceCropProbMale: probs.get(p),
        })),
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
