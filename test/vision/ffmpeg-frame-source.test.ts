import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FfmpegFrameSource, locateFfmpeg, type CaptureError, type Frame } from '@crowdlens/vision';
import { FakeClock } from '../factories/fake-clock';

const SAMPLE = resolve(__dirname, '../../assets/sample.mp4');
const logger = pino({ level: 'silent' });

function run(source: FfmpegFrameSource, onFrame?: (f: Frame, src: FfmpegFrameSource) => void) {
  const frames: Frame[] = [];
  let size: { width: number; height: number } | null = null;
  const done = new Promise<CaptureError | null>((res) => {
    source.start({
      onStart: (s) => (size = s),
      onFrame: (f) => {
        frames.push(f);
        onFrame?.(f, source);
      },
      onExit: res,
    });
  });
  return { frames, done, size: () => size };
}

describe('FfmpegFrameSource (real ffmpeg)', () => {
  const binary = locateFfmpeg();

  it('stamps live frames with both clocks: a wall-clock step back leaves the monotonic stamps rising', async () => {
    const clock = new FakeClock();
    const source = new FfmpegFrameSource({
      binary,
      // realtime: read like a live camera, so each frame is stamped as it arrives.
      input: { kind: 'file', path: SAMPLE, realtime: true, loop: false },
      fps: 5,
      width: 160,
      logger,
      clock,
    });
    const { frames, done } = run(source, (f, src) => {
      clock.advance(200);
      if (f.seq === 3) clock.stepWall(-3_600_000); // NTP steps the clock back an hour
      if (f.seq === 6) void src.stop();
    });
    await done;
    expect(frames.length).toBeGreaterThanOrEqual(7);
    const [f3, f4] = [frames[3] as Frame, frames[4] as Frame];
    expect(f4.ts - f3.ts).toBe(200 - 3_600_000);
    expect(f4.monoTs - f3.monoTs).toBe(200);
    for (let i = 1; i < frames.length; i++)
      expect((frames[i] as Frame).monoTs).toBeGreaterThan((frames[i - 1] as Frame).monoTs);
  });

  it('decodes the sample into exact RGB frames at the sampled rate, stamped with media time', async () => {
    const source = new FfmpegFrameSource({
      binary,
      input: { kind: 'file', path: SAMPLE, realtime: false, loop: false },
      fps: 2,
      width: 320,
      logger,
    });
    const { frames, done, size } = run(source);
    const exit = await done;
    expect(exit?.kind).toBe('ended');
    expect(size()).toEqual({ width: 320, height: 180 });
    // 44 s at 2 fps.
    expect(frames.length).toBeGreaterThanOrEqual(86);
    expect(frames.length).toBeLessThanOrEqual(90);
    frames.forEach((f, i) => {
      expect(f.seq).toBe(i);
      expect(f.data.length).toBe(320 * 180 * 3);
    });
    expect((frames[10] as Frame).ts - (frames[0] as Frame).ts).toBe(5000);
    // Not a blank picture: real pixels vary.
    const px = frames[20]?.data as Buffer;
    expect(new Set(px.subarray(0, 3000)).size).toBeGreaterThan(20);
  });

  it("decodes the same frames with one decoder thread (decodeThreads) as with ffmpeg's default", async () => {
    const decode = async (decodeThreads?: number) => {
      const source = new FfmpegFrameSource({
        binary,
        input: { kind: 'file', path: SAMPLE, realtime: false, loop: false },
        fps: 1,
        width: 160,
        logger,
        ...(decodeThreads ? { decodeThreads } : {}),
      });
      const { frames, done } = run(source);
      expect((await done)?.kind).toBe('ended');
      return frames;
    };
    const [threaded, single] = await Promise.all([decode(), decode(1)]);
    expect(single.length).toBeGreaterThanOrEqual(43);
    const digests = (frames: Frame[]) => frames.map((f) => createHash('sha256').update(f.data).digest('hex'));
    expect(digests(single)).toEqual(digests(threaded));
  });

  it('keeps the aspect ratio: a 4:3 request width gives the matching height', async () => {
    const source = new FfmpegFrameSource({
      binary,
      input: { kind: 'file', path: SAMPLE, realtime: false, loop: false },
      fps: 1,
      width: 200,
      logger,
    });
    const { frames, done, size } = run(source, (_f, s) => void s.stop());
    await done;
    // 640x360 source -> 200x112.5 -> even height 112.
    expect(size()).toEqual({ width: 200, height: 112 });
    expect(frames[0]?.data.length).toBe(200 * 112 * 3);
  });

  it('reports a binary that cannot start as a final spawn error', async () => {
    const source = new FfmpegFrameSource({
      binary: { ...binary, path: '/nonexistent/ffmpeg' },
      input: { kind: 'file', path: SAMPLE, realtime: false, loop: false },
      fps: 1,
      width: 320,
      logger,
    });
    const exit = await run(source).done;
    expect(exit).toMatchObject({ kind: 'spawn', retryable: false });
    expect(exit?.message).toMatch(/cannot start ffmpeg.*ENOENT/);
  });

  it('stop() terminates the whole ffmpeg process group of a looping real-time source', async () => {
    const source = new FfmpegFrameSource({
      binary,
      input: { kind: 'file', path: SAMPLE, realtime: true, loop: true },
      fps: 5,
      width: 320,
      logger,
    });
    let first: () => void = () => undefined;
    const gotFrame = new Promise<void>((r) => (first = r));
    const { done } = run(source, () => first());
    await gotFrame;
    const pid = source.pid as number;
    expect(() => process.kill(pid, 0)).not.toThrow();
    const t0 = Date.now();
    await source.stop();
    expect(await done).toBeNull();
    expect(Date.now() - t0).toBeLessThan(3000); // SIGTERM sufficed, no SIGKILL wait
    expect(() => process.kill(-pid, 0)).toThrow(/ESRCH/);
  });
});
