/**
 * NanoDet-g person detector: speed and recall on real elevated CCTV, in one run.
 *
 *   npm run build && node dist/bench/person-detector/person-detector-speed.js
 *     [--sizes 320,416,512,640] [--seconds 8] [--rounds 4] [--threads 1]
 *
 * Frames: the eleven hand-labelled frames of vtest.avi (bench/person-detector/
 * vtest-people.ts), 640x480 RGB as the pipeline scales them. Needs
 * scripts/setup-system.sh (Debian opencv-doc) for the video.
 *
 * 1. speed: ms per `detect()` call (preprocessing + onnxruntime + decoding +
 *    NMS) at each input size, onnxruntime with --threads intra-op threads,
 *    against the SSD MobileNet v1 face detector (OnnxSsdFaceDetector, the
 *    default face path) measured in the same run as the baseline. Rows run in
 *    --rounds interleaved slices, so outside load hits all rows alike.
 *    CPU ms/frame is this process's CPU time per call: with one intra-op
 *    thread it is close to the wall time on an idle machine, and far less
 *    inflated than wall time when other processes share the cores.
 * 2. recall: at each input size and score threshold, how many of the 65
 *    labelled people are found (IoU >= 0.4, one-to-one) and how many
 *    detections match nobody (false positives; mostly hidden people behind
 *    the sign count as neither).
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DetectorConfigSchema } from '@crowdlens/config';
import { OnnxNanodetPersonDetector, OnnxSsdFaceDetector, type Frame } from '@crowdlens/vision';
import { vtestFrame } from './vtest-frames';
import { scoreFrame, VTEST_PEOPLE } from './vtest-people';

const THRESHOLDS = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6];

const report = (line: string): void => void process.stdout.write(`${line}\n`);

interface Args {
  sizes: number[];
  seconds: number;
  rounds: number;
  threads: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { sizes: [320, 416, 512, 640], seconds: 8, rounds: 4, threads: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '');
    const value = argv[i + 1] ?? '';
    if (name === 'sizes') args.sizes = value.split(',').map(Number);
    else if ((name === 'seconds' || name === 'rounds' || name === 'threads') && Number(value) > 0)
      args[name] = Number(value);
    else
      throw new Error(
        `usage: person-detector-speed [--sizes 320,416] [--seconds N] [--rounds N] [--threads N] (bad: ${argv[i]})`,
      );
  }
  return args;
}

interface Row {
  readonly name: string;
  readonly detect: (f: Frame) => Promise<unknown>;
  calls: number;
  ms: number;
  cpuMs: number;
}

async function timeSlice(row: Row, frames: readonly Frame[], seconds: number): Promise<void> {
  const end = performance.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  let i = 0;
  while (performance.now() < end) {
    const f = frames[i++ % frames.length] as Frame;
    const t0 = performance.now();
    await row.detect(f);
    row.ms += performance.now() - t0;
    row.calls += 1;
  }
  const cpu = process.cpuUsage(cpu0);
  row.cpuMs += (cpu.user + cpu.system) / 1000;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const frames = VTEST_PEOPLE.map((l, i) => vtestFrame(l.seconds, i));
  const ssd = new OnnxSsdFaceDetector(
    DetectorConfigSchema.parse({ type: 'ssd', minScore: 0.5, minFaceSize: 16, workers: 0 }),
    { threads: args.threads },
  );
  // Lowest threshold here; higher ones are filters of the same output (greedy NMS keeps a box
  // only against higher-scored boxes, so filtering after NMS equals NMS after filtering).
  const persons = args.sizes.map(
    (inputSize) => new OnnxNanodetPersonDetector({ inputSize, minScore: THRESHOLDS[0], threads: args.threads }),
  );
  await Promise.all([ssd.load(), ...persons.map((p) => p.load())]);

  const rows: Row[] = [
    { name: 'SSD MobileNet v1 faces (baseline)', detect: (f) => ssd.detect(f), calls: 0, ms: 0, cpuMs: 0 },
    ...persons.map((p) => ({
      name: `NanoDet-g people, input ${p.inputSize}`,
      detect: (f: Frame) => p.detect(f),
      calls: 0,
      ms: 0,
      cpuMs: 0,
    })),
  ];
  const load0 = loadavg()[0] ?? 0;
  for (const row of rows) await row.detect(frames[0] as Frame); // warm-up: first run allocates
  for (let r = 0; r < args.rounds; r++)
    for (const row of rows) await timeSlice(row, frames, args.seconds / args.rounds);
  const load1 = loadavg()[0] ?? 0;

  report(`# person detector speed, vtest.avi 640x480, onnxruntime CPU, ${args.threads} intra-op thread(s)`);
  report(`${availableParallelism()} cores, load average ${load0.toFixed(1)} -> ${load1.toFixed(1)}`);
  if (Math.max(load0, load1) > availableParallelism()) {
    report('WARNING: load average above the core count: other processes share the CPU, absolute times are inflated');
  }
  report('');
  const baseline = rows[0] as Row;
  const baseMs = baseline.ms / baseline.calls;
  const baseCpu = baseline.cpuMs / baseline.calls;
  report('| detector | ms/frame (wall) | frames/s | vs SSD faces | CPU ms/frame | vs SSD faces (CPU) |');
  report('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    const ms = row.ms / row.calls;
    const cpu = row.cpuMs / row.calls;
    report(
      `| ${row.name} | ${ms.toFixed(1)} | ${(1000 / ms).toFixed(1)} | ${(ms / baseMs).toFixed(2)}x | ` +
        `${cpu.toFixed(1)} | ${(cpu / baseCpu).toFixed(2)}x |`,
    );
  }

  report('');
  const total = VTEST_PEOPLE.reduce((n, l) => n + l.people.length, 0);
  report(`people found of ${total} labelled in ${frames.length} frames (false positives in brackets)`);
  report(`| input | ${THRESHOLDS.map((t) => `score >= ${t}`).join(' | ')} |`);
  report(`| ---: | ${THRESHOLDS.map(() => '---:').join(' | ')} |`);
  for (const p of persons) {
    const found = THRESHOLDS.map(() => 0);
    const fps = THRESHOLDS.map(() => 0);
    for (const [i, f] of frames.entries()) {
      const people = await p.detect(f);
      THRESHOLDS.forEach((t, k) => {
        const s = scoreFrame(
          VTEST_PEOPLE[i]!,
          people.filter((d) => d.score >= t),
        );
        found[k] = (found[k] ?? 0) + s.found;
        fps[k] = (fps[k] ?? 0) + s.falsePositives;
      });
    }
    report(`| ${p.inputSize} | ${THRESHOLDS.map((_, k) => `${found[k]} (${fps[k]})`).join(' | ')} |`);
  }
  await Promise.all([ssd.close(), ...persons.map((p) => p.close())]);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
