import { describe, expect, it } from 'vitest';
import type { FfmpegInput } from '../ffmpeg/ffmpeg-args';
import { classifyFfmpegExit } from './capture-error';

const file: FfmpegInput = { kind: 'file', path: '/videos/cam-404.mp4', realtime: false, loop: false };
const rtsp: FfmpegInput = { kind: 'rtsp', url: 'rtsp://cam/401' };
const exit = (errorLines: string[], code: number | null = 1, framesReceived = 0) => ({
  code,
  signal: null,
  errorLines,
  framesReceived,
});

describe('classifyFfmpegExit', () => {
  it('a missing file is not-found and final, whatever digits its name has', () => {
    const e = classifyFfmpegExit(exit(['/videos/cam-404.mp4: No such file or directory']), file);
    expect(e.kind).toBe('not-found');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('file not found');
  });

  it('a file that is not a video is invalid-input and final', () => {
    const e = classifyFfmpegExit(exit(['/videos/cam-404.mp4: Invalid data found when processing input']), file);
    expect(e).toMatchObject({ kind: 'invalid-input', retryable: false });
    expect(e.message).toMatch(/not a video/);
  });

  it('a text file named .mp4 is not a video, not a "Not Found" stream (real ffmpeg 5 lines)', () => {
    const e = classifyFfmpegExit(
      exit([
        '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5601] moov atom not found',
        '/videos/cam-404.mp4: Invalid data found when processing input',
      ]),
      file,
    );
    expect(e).toMatchObject({ kind: 'invalid-input', retryable: false });
  });

  it('network failures are retryable, named in plain words', () => {
    expect(
      classifyFfmpegExit(
        exit(['[tcp @ 0x1] Connection to tcp://127.0.0.1:1?timeout=0 failed: Connection refused']),
        rtsp,
      ),
    ).toMatchObject({
      kind: 'unreachable',
      retryable: true,
    });
    expect(
      classifyFfmpegExit(exit(['[tcp @ 0x1] Connection to tcp://10.0.0.9:554 failed: Connection timed out']), rtsp),
    ).toMatchObject({
      kind: 'timeout',
      retryable: true,
    });
    expect(
      classifyFfmpegExit(exit(['[tcp @ 0x1] Failed to resolve hostname nvr.local: Name or service not known']), rtsp)
        .kind,
    ).toBe('unreachable');
  });

  it('wrong credentials fail without retrying; the URL itself is not evidence', () => {
    const e = classifyFfmpegExit(exit(['[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized']), rtsp);
    expect(e).toMatchObject({ kind: 'auth', retryable: false });
    expect(classifyFfmpegExit(exit(['rtsp://cam/401: Connection refused']), rtsp).kind).toBe('unreachable');
  });

  it('a clean exit after frames is the end of the stream', () => {
    expect(classifyFfmpegExit(exit([], 0, 100), file)).toMatchObject({ kind: 'ended', retryable: false });
    expect(classifyFfmpegExit(exit([], 0, 100), rtsp)).toMatchObject({ kind: 'ended', retryable: true });
    expect(classifyFfmpegExit(exit([], 0, 0), file).kind).toBe('invalid-input');
  });

  it('anything else keeps the last error line and retries', () => {
    const e = classifyFfmpegExit({ code: null, signal: 'SIGSEGV', errorLines: ['weird'], framesReceived: 3 }, rtsp);
    expect(e).toMatchObject({ kind: 'unknown', retryable: true });
    expect(e.message).toContain('SIGSEGV');
    expect(e.message).toContain('weird');
  });

  it('a server that connects but never answers is a timeout, retryable, not "not a video"', () => {
    const silent = {
      ...exit(['rtsp://cam/x: Invalid data found when processing input']),
      elapsedMs: 3050,
      ioTimeoutMs: 3000,
    };
    expect(classifyFfmpegExit(silent, rtsp)).toMatchObject({ kind: 'timeout', retryable: true });
    expect(classifyFfmpegExit(silent, rtsp).message).toMatch(/did not answer within 3 s/);
    // A quick "invalid data" is still invalid data.
    expect(classifyFfmpegExit({ ...silent, elapsedMs: 200 }, rtsp).kind).toBe('invalid-input');
    // And a timeout never hides an authentication failure.
    const auth = { ...silent, errorLines: ['method DESCRIBE failed: 401 Unauthorized'] };
    expect(classifyFfmpegExit(auth, rtsp).kind).toBe('auth');
  });

  it('a truncated file that decoded frames ended (damaged), it is not "not a video"', () => {
    // Real ffmpeg 5.1 lines for sample.mp4 cut at 55 %: exit code 0, 130 frames.
    const e = classifyFfmpegExit(
      exit(
        [
          'Error while decoding stream #0:0: Invalid data found when processing input',
          '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55ef] stream 0, offset 0xb0c2e: partial file',
        ],
        0,
        130,
      ),
      file,
    );
    expect(e.kind).toBe('ended');
    expect(e.message).toMatch(/^end of file \(damaged input: .*partial file\)$/);
  });
});
