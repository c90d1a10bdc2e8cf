import { spawnSync } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import { frameByteLength, locateFfmpeg, type Frame } from '@crowdlens/vision';

const ROOT = resolve(__dirname, '../..');

/**
 * One frame of an image or video (repo-relative or absolute path), decoded to
 * RGB by real ffmpeg with the given filter, at `width` x `height` (which the
 * caller knows: a reference fixture records it). Same command, same pixels as
 * scripts/models/retinaface-reference.py gave its reference implementation.
 */
export function stillFrame(source: string, filter: string, width: number, height: number, seek: number | null): Frame {
  const path = isAbsolute(source) ? source : resolve(ROOT, source);
  const args = ['-v', 'error', ...(seek === null ? [] : ['-ss', String(seek)])];
  args.push('-i', path, '-frames:v', '1', '-vf', filter, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-');
  const r = spawnSync(locateFfmpeg().path, args, { maxBuffer: 2 * frameByteLength(width, height) });
  if (r.status !== 0) throw new Error(`ffmpeg failed on ${path}: ${r.stderr.toString()}`);
  if (r.stdout.length !== frameByteLength(width, height)) {
    throw new Error(`${path}: ffmpeg gave ${r.stdout.length} bytes, expected a ${width}x${height} RGB frame`);
  }
  return { data: r.stdout, width, height, ts: 0, monoTs: 0, seq: 0 };
}
