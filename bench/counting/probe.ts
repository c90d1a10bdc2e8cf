import { runCounting } from './run-counting';
import { vtestPath } from './footage';

async function main(): Promise<void> {
  const fps = Number(process.argv[2] ?? 5);
  const r = await runCounting({ file: vtestPath(), fps });
  const started = r.events.filter((e) => e.kind === 'started');
  const ended = r.events.filter((e) => e.kind === 'ended');
  console.log({ frames: r.framesAnalysed, people: r.peopleDetected, faces: r.facesDetected, crops: r.crops, tracks: started.length, wallMs: Math.round(r.wallMs), cpuMs: Math.round(r.cpuMs) });
  for (const e of ended) console.log(e.trackId.split('-').at(-1), ((e.firstSeenTs - r.t0) / 1000).toFixed(1), ((e.lastSeenTs - r.t0) / 1000).toFixed(1), e.frames, e.endReason);
}
void main();
