/**
 * Memory soak for ingest: N cameras (the sample video looped in real time,
 * 5 fps) through the whole ingest pipeline for a while, memory sampled every
 * minute. An 8-hour soak does not fit CI; a long-lived leak (a buffer per
 * frame, a map entry per track, a tensor per detection) shows within minutes.
 *
 *   npm run build && node dist/bench/ingest/soak.js [--minutes 10] [--cameras 8] [--bound-mib 48]
 *
 * Pass/fail: RSS and heap must not grow more than --bound-mib (RSS) and a
 * quarter of it (heap) from the end of the first minute (warm-up: JIT, TF.js
 * wasm heaps, ffmpeg pipes and frame buffers reaching steady state) to the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { CameraConfigSchema, CountingConfigSchema, DetectorConfigSchema, TrackerConfigSchema } from '@crowdlens/config';
import { repoRoot } from '@crowdlens/runtime';
import { CameraManager } from '@crowdlens/vision';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

const minutes = Number(arg('minutes', '10'));
const cameras = Number(arg('cameras', '8'));
const boundMiB = Number(arg('bound-mib', '48'));
const sampleEveryMs = Number(arg('sample-seconds', '60')) * 1000;
const logger = pino({ level: process.env.BENCH_LOG ?? 'warn' });
const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  readonly minute: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly handled: number;
  readonly dropped: number;
  readonly crops: number;
  readonly tracks: number;
  readonly reconnects: number;
  readonly load: number;
}

async function main(): Promise<void> {
  let crops = 0;
  const manager = new CameraManager({
    logger,
    detector: DetectorConfigSchema.parse({ type: 'ssd', workers: 2 }),
    counting: CountingConfigSchema.parse({ unit: 'faces' }),
    tracker: TrackerConfigSchema.parse({}),
    cropSink: async () => {
      crops++;
    },
    trackEventSink: async () => undefined,
    statusSink: () => undefined,
    statusIntervalMs: 5000,
  });
  await manager.start();
  const sample = join(repoRoot(), 'assets/sample.mp4');
  for (let i = 0; i < cameras; i++) {
    await manager.add(CameraConfigSchema.parse({ id: `soak-${i}`, url: sample, fps: 5, loop: true, realtime: true }));
  }
  for (let i = 0; i < 300 && manager.list().some((s) => s.state !== 'streaming'); i++) await sleep(100);

  const samples: Sample[] = [];
  const t0 = Date.now();
  const take = (): Sample => {
    const m = process.memoryUsage();
    const d = manager.listDetails();
    const s: Sample = {
      minute: (Date.now() - t0) / 60_000,
      rss: m.rss / MiB,
      heapUsed: m.heapUsed / MiB,
      external: m.external / MiB,
      arrayBuffers: m.arrayBuffers / MiB,
      handled: d.reduce((n, c) => n + c.framesAnalysed + c.framesSkipped, 0),
      dropped: d.reduce((n, c) => n + c.framesDropped, 0),
      crops,
      tracks: d.reduce((n, c) => n + c.tracks, 0),
      reconnects: d.reduce((n, c) => n + c.reconnects, 0),
      load: loadavg()[0] ?? 0,
    };
    samples.push(s);
    process.stderr.write(
      `  ${s.minute.toFixed(1)} min: rss ${s.rss.toFixed(0)} MiB, heap ${s.heapUsed.toFixed(0)} MiB, ` +
        `${s.handled} frames, ${s.crops} crops, load ${s.load.toFixed(1)}\n`,
    );
    return s;
  };
  process.stderr.write(`soak: ${cameras} cameras x 5 fps for ${minutes} min\n`);
  take();
  const end = t0 + minutes * 60_000;
  while (Date.now() < end) {
    await sleep(Math.min(sampleEveryMs, end - Date.now()));
    take();
  }
  const states = manager.list().map((s) => s.state);
  await manager.stop();

  const first = samples[0] as Sample;
  const warm = samples.find((s) => s.minute >= 0.99) ?? first;
  const last = samples[samples.length - 1] as Sample;
  const rssGrowth = last.rss - warm.rss;
  const heapGrowth = last.heapUsed - warm.heapUsed;
  const pass = rssGrowth <= boundMiB && heapGrowth <= boundMiB / 4 && states.every((s) => s === 'streaming');
  const f0 = (x: number) => x.toFixed(0);
  const out: string[] = [];
  out.push(
    `### soak: ${cameras} cameras x 5 fps (sample video looped in real time), ${minutes} min, SSD on onnxruntime (the default detector), 2 detector workers`,
  );
  out.push('');
  out.push(
    '| minute | RSS MiB | heap used MiB | external MiB | array buffers MiB | frames handled | dropped | tracks | crops | reconnects | load avg |',
  );
  out.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of samples) {
    out.push(
      `| ${s.minute.toFixed(1)} | ${f0(s.rss)} | ${f0(s.heapUsed)} | ${f0(s.external)} | ${f0(s.arrayBuffers)} | ${s.handled} | ${s.dropped} | ${s.tracks} | ${s.crops} | ${s.reconnects} | ${s.load.toFixed(1)} |`,
    );
  }
  out.push('');
  out.push(
    `RSS ${f0(first.rss)} MiB at start, ${f0(warm.rss)} MiB after the first minute, ${f0(last.rss)} MiB at the end: ` +
      `growth after warm-up ${rssGrowth >= 0 ? '+' : ''}${rssGrowth.toFixed(1)} MiB (bound ${boundMiB} MiB); ` +
      `heap ${heapGrowth >= 0 ? '+' : ''}${heapGrowth.toFixed(1)} MiB (bound ${boundMiB / 4} MiB); cameras at the end: ${states.join(', ')}. ` +
      `**${pass ? 'PASS' : 'FAIL'}**`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  mkdirSync(join(repoRoot(), 'bench/out'), { recursive: true });
  writeFileSync(
    join(repoRoot(), 'bench/out/ingest-soak.json'),
    JSON.stringify({ minutes, cameras, boundMiB, pass, samples }, null, 2),
  );
  process.exit(pass ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
});
