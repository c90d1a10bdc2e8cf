/**
 * Broken video: a truncated file, random bytes in front of a file, a stream
 * with corrupt packets, and a stream whose resolution changes mid-stream.
 * None may crash the process; each must leave a reason in the log, and the
 * camera must recover or end cleanly. Fixtures are made from the sample video
 * with ffmpeg in a temporary folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraConfigSchema, type CameraConfig } from '@crowdlens/config';
import type { CameraStatus, FaceCrop } from '@crowdlens/contracts';
import { CameraManager } from '@crowdlens/vision';
import { startTestCameraManager } from './support/test-camera-manager';
import { RtspTestServer, SAMPLE_VIDEO } from './support/rtsp-server';
import { capturingLogger, waitFor } from './support/wait';

const dir = mkdtempSync(join(tmpdir(), 'crowdlens-corrupt-'));

function ffmpeg(...args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: 'inherit' });
}

/** Deterministic bytes, so a failure can be reproduced. */
function noise(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    b[i] = s >> 16;
  }
  return b;
}

interface LogEntry {
  readonly cameraId?: string;
  readonly msg: string;
  readonly level: number;
  readonly [key: string]: unknown;
}

describe('corrupt, truncated and resizing video', () => {
  let server: RtspTestServer;
  let manager: CameraManager;
  const crops: FaceCrop[] = [];
  const { logger, lines } = capturingLogger('debug');
  const logs = (cameraId: string): LogEntry[] =>
    lines.map((l) => JSON.parse(l) as LogEntry).filter((e) => e.cameraId === cameraId);
  const files = {
    truncated: join(dir, 'truncated.mp4'),
    prefixed: join(dir, 'prefixed.mp4'),
    corrupt: join(dir, 'corrupt.ts'),
    resize: join(dir, 'resize.ts'),
  };

  beforeAll(async () => {
    const sample = readFileSync(SAMPLE_VIDEO);
    // Cut at 55 %: the index (moov) is at the front, the tail of the media data is gone.
    writeFileSync(files.truncated, sample.subarray(0, Math.floor(sample.length * 0.55)));
    writeFileSync(files.prefixed, Buffer.concat([noise(64 * 1024, 1), sample]));
    // MPEG-TS with 30 bursts of 1.5 KiB of garbage over the middle of the file.
    const ts = join(dir, 'clean.ts');
    ffmpeg('-i', SAMPLE_VIDEO, '-map', '0:v:0', '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'mpegts', ts);
    const corrupt = Buffer.from(readFileSync(ts));
    for (let i = 0; i < 30; i++) {
      const at = Math.floor(corrupt.length * (0.1 + (0.8 * i) / 30));
      noise(1536, 100 + i).copy(corrupt, at);
    }
    writeFileSync(files.corrupt, corrupt);
    // 8 s at 640x360 then 8 s at 480x480, one H.264 stream (new SPS mid-stream), 1 s GOPs.
    const a = join(dir, 'a.ts');
    const b = join(dir, 'b.ts');
    const enc = ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-bsf:v', 'h264_mp4toannexb', '-f', 'mpegts'];
    ffmpeg('-ss', '2', '-t', '8', '-i', SAMPLE_VIDEO, '-vf', 'scale=640:360', ...enc, a);
    ffmpeg('-ss', '12', '-t', '8', '-i', SAMPLE_VIDEO, '-vf', 'scale=480:480,setsar=1', ...enc, b);
    writeFileSync(files.resize, Buffer.concat([readFileSync(a), readFileSync(b)]));

    server = await RtspTestServer.start();
    manager = await startTestCameraManager({ logger, crops, detector: { type: 'tiny', inputSize: 416 } });
  }, 300_000);

  afterAll(async () => {
    await manager?.stop();
    await server?.stop();
  });

  const add = (over: Partial<CameraConfig> & { id: string; url: string }) =>
    manager.add(CameraConfigSchema.parse({ fps: 5, ...over }));
  const settled = (id: string) =>
    waitFor(
      `${id} to end`,
      () => {
        const s = manager.get(id);
        return s && (s.state === 'stopped' || s.state === 'failed') ? s : undefined;
      },
      90_000,
    );

  it('a truncated file plays what it has, ends cleanly, and the log says why', async () => {
    await add({ id: 'truncated', url: files.truncated, realtime: false, fps: 2 });
    const s = await settled('truncated');
    expect(s.state).toBe('stopped');
    // About half of the 44 s at 2 fps.
    expect(s.framesAnalysed).toBeGreaterThan(40);
    const problems = logs('truncated').filter((e) => e.level >= 40 && e.msg === 'ffmpeg stderr');
    expect(problems.map((e) => String(e.ffmpeg)).join('\n')).toMatch(/partial file/);
    const ended = logs('truncated').find((e) => e.msg === 'file source ended');
    expect(ended?.reason).toMatch(/end of file \(damaged input/);
  });

  it('random bytes in front of a file: no crash, a clear reason', async () => {
    await add({ id: 'prefixed', url: files.prefixed, realtime: false });
    const s = await settled('prefixed');
    // ffmpeg either finds the video behind the garbage or gives up; either way it is said plainly.
    if (s.state === 'failed') expect(s.lastError).toMatch(/not a video|unsupported format/);
    else expect(s.framesAnalysed).toBeGreaterThan(0);
  });

  it('a stream with corrupt packets keeps streaming and logs the decoder errors', async () => {
    await server.publish('corrupt', files.corrupt);
    await add({ id: 'corrupt', url: server.url('corrupt') });
    await waitFor('corrupt stream streaming', () => manager.get('corrupt')?.state === 'streaming', 30_000);
    // Past several of the damaged stretches (one every ~1.2 s of video).
    await waitFor('frames through the damage', () => (manager.get('corrupt')?.framesAnalysed ?? 0) >= 40, 60_000);
    const s = manager.get('corrupt') as CameraStatus;
    expect(s.state).toBe('streaming');
    const reported = logs('corrupt').filter(
      (e) => e.msg === 'ffmpeg stderr' || e.msg === 'ffmpeg stderr lines suppressed (rate limit)',
    );
    expect(reported.length).toBeGreaterThan(0);
    expect(crops.some((c) => c.cameraId === 'corrupt')).toBe(true);
    await manager.remove('corrupt');
  });

  it('a live stream that changes resolution restarts capture at the new size, undistorted', async () => {
    await server.publish('resize', files.resize, { loop: false });
    await add({ id: 'resize', url: server.url('resize') });
    const started = () =>
      logs('resize')
        .filter((e) => e.msg === 'camera video started')
        .map((e) => `${String(e.width)}x${String(e.height)}`);
    await waitFor('the first size', () => started().length >= 1, 30_000);
    await waitFor('restart at the new size', () => started().includes('640x640'), 40_000);
    expect(started()[0]).toBe('640x360');
    const warning = logs('resize').find((e) => e.msg === 'input resolution changed; restarting ffmpeg');
    expect(warning).toMatchObject({ from: '640x360', to: '480x480' });
    await waitFor('frames at the new size', () => manager.get('resize')?.state === 'streaming', 20_000);
    expect(manager.get('resize')?.reconnects).toBeGreaterThanOrEqual(1);
    await manager.remove('resize');
  });

  it('a file that changes resolution plays on (scaled into the first size) with a warning', async () => {
    await add({ id: 'resize-file', url: files.resize, realtime: false, fps: 2 });
    const s = await settled('resize-file');
    expect(s.state).toBe('stopped');
    // 16 s at 2 fps; some may be skipped by the motion gate, none lost.
    expect(s.framesIn).toBeGreaterThanOrEqual(30);
    expect(s.framesAnalysed).toBeGreaterThan(0);
    expect(logs('resize-file').some((e) => e.msg.startsWith('input resolution changed mid-file'))).toBe(true);
  });
});
