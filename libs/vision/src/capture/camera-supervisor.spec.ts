import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CameraState } from '@crowdlens/contracts';
import type { Frame } from '../frame';
import { CameraSupervisor, type CameraSupervisorOptions } from './camera-supervisor';
import { CaptureError } from './capture-error';
import type { FrameSource, FrameSourceHandlers } from './frame-source.port';

class FakeSource implements FrameSource {
  handlers: FrameSourceHandlers | null = null;
  paused = false;
  stopped = false;
  private seq = 0;

  start(h: FrameSourceHandlers): void {
    this.handlers = h;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.handlers?.onExit(null);
  }
  frame(): void {
    const f: Frame = {
      data: Buffer.alloc(3),
      width: 1,
      height: 1,
      ts: Date.now(),
      monoTs: performance.now(),
      seq: this.seq++,
    };
    this.handlers?.onFrame(f);
  }
  fail(err: CaptureError): void {
    this.handlers?.onExit(err);
  }
}

const logger = pino({ level: 'silent' });

describe('CameraSupervisor', () => {
  let sources: FakeSource[];
  let states: [CameraState, string | null][];
  let frames: number;

  beforeEach(() => {
    vi.useFakeTimers();
    sources = [];
    states = [];
    frames = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function supervisor(over: Partial<CameraSupervisorOptions> = {}): CameraSupervisor {
    return new CameraSupervisor({
      cameraId: 'cam',
      logger,
      isFile: false,
      createSource: () => {
        const s = new FakeSource();
        sources.push(s);
        return s;
      },
      onFrame: () => frames++,
      onStateChange: (state, err) => states.push([state, err]),
      backoff: { initialMs: 100, maxMs: 1000, jitter: 0 },
      stallTimeoutMs: 2000,
      connectTimeoutMs: 5000,
      ...over,
    });
  }

  const last = () => sources[sources.length - 1] as FakeSource;

  it('goes connecting -> streaming on the first frame and counts frames', () => {
    const s = supervisor();
    s.start();
    expect(s.state).toBe('connecting');
    last().frame();
    last().frame();
    expect(s.state).toBe('streaming');
    expect(s.framesIn).toBe(2);
    expect(frames).toBe(2);
    expect(states.map((x) => x[0])).toEqual(['connecting', 'streaming']);
  });

  it('fails for good on a non-retryable error', async () => {
    const s = supervisor({ isFile: true });
    s.start();
    last().fail(new CaptureError('not-found', 'file not found: /x.mp4', false));
    expect(s.state).toBe('failed');
    expect(s.lastError).toBe('file not found: /x.mp4');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sources).toHaveLength(1);
  });

  it('backs off exponentially on network errors and reconnects', async () => {
    const s = supervisor();
    s.start();
    last().fail(new CaptureError('unreachable', 'connection refused', true));
    expect(s.state).toBe('backoff');
    expect(s.lastError).toBe('connection refused');
    await vi.advanceTimersByTimeAsync(99);
    expect(sources).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sources).toHaveLength(2);
    expect(s.state).toBe('connecting');
    expect(s.reconnects).toBe(1);
    // Still shows why it is reconnecting.
    expect(s.lastError).toBe('connection refused');
    last().fail(new CaptureError('unreachable', 'connection refused', true));
    await vi.advanceTimersByTimeAsync(199);
    expect(sources).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sources).toHaveLength(3);
    last().frame();
    expect(s.state).toBe('streaming');
    expect(s.lastError).toBeNull();
  });

  it('restarts at once for a resolution change, and backs off only if it keeps changing', async () => {
    const s = supervisor();
    s.start();
    last().frame();
    const resized = () => new CaptureError('resized', 'input resolution changed from 640x360 to 480x480', true);
    last().fail(resized());
    expect(sources).toHaveLength(2);
    expect(s.state).toBe('connecting');
    expect(s.lastError).toMatch(/resolution changed/);
    expect(s.reconnects).toBe(1);
    last().frame();
    expect(s.state).toBe('streaming');
    // A second change within 10 s: treated like any other retryable failure.
    last().fail(resized());
    expect(s.state).toBe('backoff');
    await vi.advanceTimersByTimeAsync(100);
    expect(sources).toHaveLength(3);
  });

  it('gives up after maxRetries', async () => {
    const s = supervisor({ maxRetries: 2 });
    s.start();
    for (let i = 0; i < 3; i++) {
      last().fail(new CaptureError('timeout', 'connection timed out', true));
      await vi.advanceTimersByTimeAsync(10_000);
    }
    expect(sources).toHaveLength(3);
    expect(s.state).toBe('failed');
    expect(s.lastError).toMatch(/connection timed out \(gave up after 3 attempts\)/);
  });

  it('a file that ends is stopped; a live stream that ends reconnects', async () => {
    const file = supervisor({ isFile: true });
    file.start();
    last().frame();
    last().fail(new CaptureError('ended', 'end of file', false));
    expect(file.state).toBe('stopped');
    expect(file.lastError).toBeNull();

    const live = supervisor();
    live.start();
    last().frame();
    last().fail(new CaptureError('ended', 'stream ended', true));
    expect(live.state).toBe('backoff');
  });

  it('restarts a stream that stalls', async () => {
    const s = supervisor();
    s.start();
    last().frame();
    await vi.advanceTimersByTimeAsync(1900);
    last().frame(); // still alive
    await vi.advanceTimersByTimeAsync(1900);
    expect(last().stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(250); // watchdog ticks every 500 ms
    expect(sources[0]?.stopped).toBe(true);
    expect(s.state).toBe('backoff');
    expect(s.lastError).toMatch(/stalled: no frame for 2 s/);
    await vi.advanceTimersByTimeAsync(100);
    expect(sources).toHaveLength(2);
  });

  it('times out a connection that never produces video', async () => {
    const s = supervisor();
    s.start();
    await vi.advanceTimersByTimeAsync(5500);
    expect(sources[0]?.stopped).toBe(true);
    expect(s.lastError).toMatch(/no video within/);
  });

  it('does not call a paused (backpressured) source stalled', async () => {
    const s = supervisor();
    s.start();
    last().frame();
    s.pause();
    expect(last().paused).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(last().stopped).toBe(false);
    s.resume();
    expect(last().paused).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(last().stopped).toBe(false);
  });

  it('resets the backoff only after a run was stable', async () => {
    const s = supervisor({ stableAfterMs: 3000, stallTimeoutMs: 100_000 });
    s.start();
    last().fail(new CaptureError('unreachable', 'x', true)); // delay 100
    await vi.advanceTimersByTimeAsync(100);
    last().frame();
    last().fail(new CaptureError('unreachable', 'x', true)); // flapping: delay 200
    await vi.advanceTimersByTimeAsync(199);
    expect(sources).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    last().frame();
    await vi.advanceTimersByTimeAsync(3000);
    last().fail(new CaptureError('unreachable', 'x', true)); // stable run: back to 100
    await vi.advanceTimersByTimeAsync(100);
    expect(sources).toHaveLength(4);
  });

  it('fails when the source cannot even be created', () => {
    const s = supervisor({
      createSource: () => {
        throw new Error('unsupported source "udp://***:***@h"');
      },
    });
    s.start();
    expect(s.state).toBe('failed');
    expect(s.lastError).toContain('unsupported source');
  });

  it('stop() ends the run and cancels a pending retry', async () => {
    const s = supervisor();
    s.start();
    last().frame();
    await s.stop();
    expect(sources[0]?.stopped).toBe(true);
    expect(s.state).toBe('stopped');

    const t = supervisor();
    t.start();
    last().fail(new CaptureError('unreachable', 'x', true));
    await t.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(t.state).toBe('stopped');
    expect(sources).toHaveLength(2);
  });

  describe('stall detection runs on the monotonic clock (issue 14 item 13)', () => {
    const HOUR = 3_600_000;

    it('a wall-clock step forward is not a stall', async () => {
      const s = supervisor();
      s.start();
      for (let i = 0; i < 5; i++) {
        last().frame();
        await vi.advanceTimersByTimeAsync(200);
      }
      // NTP corrects a clock that was an hour slow; frames keep coming every 200 ms.
      vi.setSystemTime(Date.now() + HOUR);
      await vi.advanceTimersByTimeAsync(600); // a watchdog tick (every 500 ms) before the next frame
      for (let i = 0; i < 10; i++) {
        last().frame();
        await vi.advanceTimersByTimeAsync(200);
      }
      expect(sources).toHaveLength(1);
      expect(s.reconnects).toBe(0);
      expect(s.state).toBe('streaming');
    });

    it('a wall-clock step back does not hide a stall', async () => {
      const s = supervisor();
      s.start();
      last().frame();
      await vi.advanceTimersByTimeAsync(200);
      vi.setSystemTime(Date.now() - HOUR);
      // No frame from here on: the stall timeout (2 s) passes on the monotonic clock.
      await vi.advanceTimersByTimeAsync(3_000);
      expect(sources[0]?.stopped).toBe(true);
      expect(s.lastError).toMatch(/stream stalled/);
    });
  });
});
