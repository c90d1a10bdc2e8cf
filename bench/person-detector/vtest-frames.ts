import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { frameByteLength, locateFfmpeg, type Frame } from '@crowdlens/vision';
import { VTEST_AVI, VTEST_HEIGHT, VTEST_WIDTH } from './vtest-people';

/**
 * One frame of vtest.avi at `seconds`, scaled to 640x480 RGB by real ffmpeg
 * (accurate seek: the same frame every run).
 */
export function vtestFrame(seconds: number, seq = 0): Frame {
  if (!existsSync(VTEST_AVI)) {
    throw new Error(`${VTEST_AVI} is missing: run scripts/setup-system.sh (it installs Debian's opencv-doc)`);
  }
  const r = spawnSync(
    locateFfmpeg().path,
    [
      '-v',
      'error',
      '-ss',
      String(seconds),
      '-i',
      VTEST_AVI,
      '-frames:v',
      '1',
      '-vf',
      `scale=${VTEST_WIDTH}:${VTEST_HEIGHT}`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ],
    { maxBuffer: 4 * frameByteLength(VTEST_WIDTH, VTEST_HEIGHT) },
  );
  if (r.status !== 0) throw new Error(`ffmpeg failed on ${VTEST_AVI} at ${seconds}s: ${r.stderr.toString()}`);
  return { data: r.stdout, width: VTEST_WIDTH, height: VTEST_HEIGHT, ts: seconds * 1000, monoTs: seconds * 1000, seq };
}
