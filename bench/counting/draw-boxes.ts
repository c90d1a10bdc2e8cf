/**
 * Draws what the counting pipeline sees on one real frame: people (body
 * boxes), the faces attached to them, and bodies guessed from a face alone.
 * Writes docs/img/counting-boxes.png for docs/counting.md.
 *
 *   node dist/bench/counting/draw-boxes.js [--at 36] [--out docs/img/counting-boxes.png]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import sharp from 'sharp';
import { repoRoot } from '@crowdlens/runtime';
import { CountingConfigSchema, DetectorConfigSchema } from '@crowdlens/config';
import { attachFaces, createThreadSceneDetector, locateFfmpeg, type Frame } from '@crowdlens/vision';
import { vtestPath } from './footage';

const print = (line: string): void => void process.stdout.write(`${line}\n`);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function main(): Promise<void> {
  const at = arg('at', '36');
  const out = arg('out', join(repoRoot(), 'docs/img/counting-boxes.png'));
  const width = 640;
  const height = 480;
  const data = execFileSync(
    locateFfmpeg().path,
    ['-v', 'error', '-ss', at, '-i', vtestPath(), '-frames:v', '1', '-vf', `scale=${width}:${height}`].concat([
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ]),
    { maxBuffer: 64 << 20 },
  );
  const frame: Frame = { data, width, height, ts: 0, monoTs: 0, seq: 0 };
  const counting = CountingConfigSchema.parse({});
  const detector = createThreadSceneDetector({
    faces: DetectorConfigSchema.parse({ workers: 0 }),
    people: counting.personDetector,
  });
  await detector.load();
  const found = await detector.detect({ ...frame, data: Buffer.from(data) });
  await detector.close();
  const subjects = attachFaces(found.people, found.faces, frame);
  const rect = (b: { x: number; y: number; width: number; height: number }, colour: string, dash = ''): string =>
    `<rect x="${b.x.toFixed(1)}" y="${b.y.toFixed(1)}" width="${b.width.toFixed(1)}" height="${b.height.toFixed(1)}" fill="none" stroke="${colour}" stroke-width="2" ${dash}/>`;
  const shapes = subjects.flatMap((s, i) => [
    rect(s.box, s.fromFace ? '#f5a623' : '#2ecc71', s.fromFace ? 'stroke-dasharray="4 3"' : ''),
    `<text x="${(s.box.x + 2).toFixed(0)}" y="${(s.box.y - 3).toFixed(0)}" font-family="sans-serif" font-size="12" fill="#2ecc71">${i + 1} ${(s.score * 100).toFixed(0)}%</text>`,
    ...(s.face ? [rect(s.face.box, '#e74c3c')] : []),
  ]);
  const legend = `<rect x="0" y="${height - 22}" width="${width}" height="22" fill="black" fill-opacity="0.6"/>
    <text x="8" y="${height - 7}" font-family="sans-serif" font-size="13" fill="white">vtest.avi ${at} s: ${found.people.length} people (green), ${found.faces.length} faces (red): faces ~8 px, too small to read</text>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}${legend}</svg>`;
  await sharp(data, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(svg) }])
    .png()
    .toFile(out);
  print(`${out}: ${found.people.length} people, ${found.faces.length} faces`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
