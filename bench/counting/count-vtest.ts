/**
 * Counting accuracy on real footage: OpenCV's vtest.avi (elevated CCTV, faces
 * ~10 px) through the ingest pipeline, scored against the hand count in
 * test/fixtures/counting/vtest-ground-truth.json, and one person standing
 * still for a known time. The baseline in the same run is the face pipeline
 * (counting.unit: faces), what CrowdLens counted before people were the unit.
 *
 *   node dist/bench/counting/count-vtest.js [--fps 5] [--sizes 320,416,512] [--still-seconds 20]
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@crowdlens/runtime';
import type { CountingConfigInput } from '@crowdlens/config';
import { loadGroundTruth, scoreCounting, trackSpans, type CountingScore } from './counting-score';
import { makeStillPersonClip, vtestPath } from './footage';
import { runCounting, type CountingRun } from './run-counting';

const print = (line: string): void => void process.stdout.write(`${line}\n`);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const fps = Number(arg('fps', '5'));
const sizes = arg('sizes', '416').split(',').map(Number);
const stillSeconds = Number(arg('still-seconds', '20'));

interface Row {
  readonly label: string;
  readonly score: CountingScore;
  readonly run: CountingRun;
}

const pct = (x: number): string => `${(x * 100).toFixed(0)} %`;
const signedPct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)} %`;

async function main(): Promise<void> {
  const truth = loadGroundTruth(join(repoRoot(), 'test/fixtures/counting/vtest-ground-truth.json'));
  const clip = vtestPath();
  const variants: { label: string; counting: CountingConfigInput }[] = [
    { label: 'faces (baseline: the face pipeline)', counting: { unit: 'faces' } },
    ...sizes.map((inputSize) => ({
      label: `people, NanoDet ${inputSize}${inputSize === 416 ? ' (default)' : ''}`,
      counting: { unit: 'people' as const, personDetector: { inputSize } },
    })),
  ];
  print(`vtest.avi at ${fps} analysed fps, 2 detector workers; load average ${loadavg()[0]?.toFixed(2)}`);
  const rows: Row[] = [];
  for (const v of variants) {
    const run = await runCounting({ file: clip, fps, counting: v.counting });
    rows.push({ label: v.label, run, score: scoreCounting(truth, trackSpans(run.events, run.t0)) });
    print(`  ${v.label}: ${run.events.filter((e) => e.kind === 'started').length} visitors`);
  }
  const sure = truth.appearances - truth.doubtfulAppearances;
  const base = rows[0] as Row;
  const baseCpu = base.run.cpuMs / Math.max(1, base.run.framesAnalysed);
  print(
    `\nTruth (hand count): ${sure} appearances (+${truth.doubtfulAppearances} doubtful) of ${truth.distinctPeople} distinct people. A visitor is an appearance.\n`,
  );
  print(
    '| pipeline | visitors | count error | precision | recall | tracks / appearance | occupancy MAE | dwell ratio | frames/s | CPU ms/frame | CPU × baseline |',
  );
  print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const cpu = r.run.cpuMs / Math.max(1, r.run.framesAnalysed);
    print(
      `| ${r.label} | ${r.score.visitors} | ${signedPct(r.score.countError)} | ${pct(r.score.precision)} | ${pct(r.score.recall)} | ` +
        `${r.score.tracksPerAppearance.toFixed(2)} | ${r.score.occupancyMae.toFixed(2)} | ${r.score.dwellRatio.toFixed(2)} | ` +
        `${((r.run.framesAnalysed * 1000) / r.run.wallMs).toFixed(1)} | ${cpu.toFixed(0)} | ${(cpu / baseCpu).toFixed(2)} |`,
    );
  }

  const dir = mkdtempSync(join(tmpdir(), 'crowdlens-still-'));
  const still = await runCounting({ file: makeStillPersonClip(join(dir, 'still.mp4'), stillSeconds), fps });
  const spans = trackSpans(still.events, still.t0);
  const dwell = spans.map((s) => (s.endS - s.startS).toFixed(1)).join(', ');
  print(
    `\nStill person (messi5.jpg held ${stillSeconds} s): ${spans.length} visitor(s), dwell ${dwell} s (truth ${stillSeconds} s; the last frame is at ${(stillSeconds - 1 / fps).toFixed(1)} s)`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
