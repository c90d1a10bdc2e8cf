/**
 * Real footage for counting: OpenCV's sample data from Debian's opencv-doc
 * package (installed by scripts/setup-system.sh). vtest.avi is an elevated
 * CCTV view of a footpath (768x576, 10 fps); messi5.jpg becomes a clip of one
 * person standing still for a known time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { locateFfmpeg } from '@crowdlens/vision';

export const OPENCV_DATA = process.env.OPENCV_DATA ?? '/usr/share/doc/opencv-doc/examples/data';

function opencvSample(name: string): string {
  const path = join(OPENCV_DATA, name);
  if (!existsSync(path))
    throw new Error(`${path} is missing: install Debian's opencv-doc (bash scripts/setup-system.sh does)`);
  return path;
}

export function vtestPath(): string {
  return opencvSample('vtest.avi');
}

/** A video of messi5.jpg held still for `seconds` at `fps`, written to `out`: one person, a known dwell. */
export function makeStillPersonClip(out: string, seconds: number, fps = 10): string {
  const image = opencvSample('messi5.jpg');
  execFileSync(
    locateFfmpeg().path,
    [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-loop', '1', '-framerate', String(fps), '-i', image],
      ...['-t', String(seconds), '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p', '-c:v', 'libx264'],
      ...['-preset', 'veryfast', out],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return out;
}
