import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { redactText } from '@crowdlens/config';
import type { Logger } from '@crowdlens/runtime';
import { SYSTEM_CLOCK, type Clock } from '@crowdlens/runtime/clock';
import { frameByteLength, type Frame } from '../frame';
import { buildFfmpegArgs, type FfmpegInput } from '../ffmpeg/ffmpeg-args';
import type { FfmpegBinary } from '../ffmpeg/ffmpeg-locator';
import {
  InputSizeWatcher,
  LineSplitter,
  OutputSizeDetector,
  parseFfmpegLogLine,
  type SizeChange,
} from '../ffmpeg/ffmpeg-log';
import { CaptureError, classifyFfmpegExit } from './capture-error';
import { fileFrameTimes } from './file-frame-times';
import type { FrameSource, FrameSourceHandlers } from './frame-source.port';
import { RawFrameSplitter } from './raw-frame-splitter';

export interface FfmpegFrameSourceOptions {
  readonly binary: FfmpegBinary;
  readonly input: FfmpegInput;
  readonly fps: number;
  readonly width: number;
  readonly hwaccel?: string;
  /** ffmpeg decoder threads; absent: ffmpeg's choice. */
  readonly decodeThreads?: number;
  /** Network connect/read timeout passed to ffmpeg. */
  readonly ioTimeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL. */
  readonly killTimeoutMs?: number;
  /** Logger already bound to the camera (child logger with cameraId). */
  readonly logger: Logger;
  /** Frames are stamped with both readings; durations (log windows, time to fail) are monotonic. */
  readonly clock?: Clock;
}

const DEFAULT_IO_TIMEOUT_MS = 10_000;
/** Recent error lines kept for diagnosis when ffmpeg exits. */
const ERROR_LINES_KEPT = 10;
/** Warning/error lines logged per window; a corrupt stream can print one per frame. */
const LOG_LINES_PER_WINDOW = 20;
const LOG_WINDOW_MS = 10_000;

/**
 * One ffmpeg child decoding one camera into RGB frames on stdout.
 *
 * The child gets its own process group (`detached`) so that stopping it also
 * stops anything it spawned, and so a Ctrl-C in the terminal reaches the
 * parent, which shuts children down in order, rather than every ffmpeg at
 * once. Every stderr line is redacted before it is logged or kept: ffmpeg
 * prints the input URL, credentials included.
 */
export class FfmpegFrameSource implements FrameSource {
  private child: ChildProcessByStdio<null, Readable, Readable> | null = null;
  private handlers: FrameSourceHandlers | null = null;
  private stopRequested = false;
  private exited = false;
  private failure: CaptureError | null = null;
  private seq = 0;
  private size: { width: number; height: number } | null = null;
  /** Monotonic ms at spawn. */
  private startedAt = 0;
  /** Wall-clock ms at spawn: media time of a fast-decoded file counts from here. */
  private startedWall = 0;
  private readonly errorLines: string[] = [];
  private readonly inputSize = new InputSizeWatcher();
  private resizeNoted = false;
  private exitPromise: Promise<void> = Promise.resolve();
  private logWindowStart = 0;
  private logLinesInWindow = 0;
  private suppressedLines = 0;
  private readonly clock: Clock;

  constructor(private readonly opts: FfmpegFrameSourceOptions) {
    this.clock = opts.clock ?? SYSTEM_CLOCK;
  }

  /** Exposed for diagnostics and tests (the process group id is the pid). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(handlers: FrameSourceHandlers): void {
    if (this.handlers) throw new Error('FfmpegFrameSource.start called twice; create a new source per run');
    this.handlers = handlers;
    const { opts } = this;
    const args = buildFfmpegArgs({
      input: opts.input,
      output: { fps: opts.fps, width: opts.width },
      ioTimeoutMs: opts.ioTimeoutMs ?? DEFAULT_IO_TIMEOUT_MS,
      libavformatMajor: opts.binary.libavformatMajor,
      ...(opts.hwaccel ? { hwaccel: opts.hwaccel } : {}),
      ...(opts.decodeThreads ? { decodeThreads: opts.decodeThreads } : {}),
    });
    this.startedAt = this.clock.monotonicMs();
    this.startedWall = this.clock.now();
    opts.logger.debug({ args: args.map(redactText) }, 'starting ffmpeg');

    const splitter = new RawFrameSplitter((data) => this.emitFrame(data));
    const sizeDetector = new OutputSizeDetector();
    const lines = new LineSplitter();

    const child = spawn(opts.binary.path, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exitPromise = new Promise<void>((resolve) => {
      // 'close' (not 'exit'): it fires after stdout is drained, so no frame is lost.
      child.once('close', (code, signal) => {
        for (const line of lines.flush()) this.onStderrLine(line, sizeDetector);
        this.finish(code, signal);
        resolve();
      });
    });
    child.once('error', (err) => {
      // spawn failure (ENOENT, EACCES): 'close' still follows.
      this.failure ??= new CaptureError('spawn', `cannot start ffmpeg (${opts.binary.path}): ${err.message}`, false);
    });

    child.stderr.on('data', (chunk: Buffer) => {
      for (const line of lines.push(chunk)) {
        const revealed = this.onStderrLine(line, sizeDetector);
        if (revealed && !this.size) {
          this.size = revealed;
          try {
            splitter.setFrameSize(frameByteLength(revealed.width, revealed.height));
          } catch (err) {
            this.abort(err);
            return;
          }
          this.handlers?.onStart(revealed);
        }
      }
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (this.failure) return;
      try {
        splitter.push(chunk);
      } catch (err) {
        this.abort(err);
      }
    });
  }

  pause(): void {
    this.child?.stdout.pause();
  }

  resume(): void {
    this.child?.stdout.resume();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return this.exitPromise;
    this.stopRequested = true;
    this.signalGroup('SIGTERM');
    const killTimer = setTimeout(() => {
      this.opts.logger.warn({ pid: child.pid }, 'ffmpeg ignored SIGTERM; sending SIGKILL');
      this.signalGroup('SIGKILL');
    }, this.opts.killTimeoutMs ?? 3000);
    // A paused stdout would keep the pipe full and ffmpeg blocked in write().
    child.stdout.resume();
    try {
      await this.exitPromise;
    } finally {
      clearTimeout(killTimer);
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      // Negative pid: the whole process group created by `detached`.
      process.kill(-pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') {
        this.opts.logger.warn({ err, pid }, 'could not signal ffmpeg');
      }
    }
  }

  private abort(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.failure ??= new CaptureError('unknown', redactText(message), true);
    this.signalGroup('SIGKILL');
  }

  private emitFrame(data: Buffer): void {
    const size = this.size;
    // After a failure (a resize among them) the frames still in the pipe are not passed on.
    if (!size || !this.handlers || this.stopRequested || this.failure) return;
    const { input, fps } = this.opts;
    // Live and real-time sources are stamped with the clock as frames arrive. A file decoded
    // as fast as possible is stamped with its media time instead, so the tracker
    // sees the true spacing between frames however fast they are processed.
    const fast = input.kind === 'file' && !input.realtime;
    const { ts, monoTs } = fast
      ? fileFrameTimes({ wallMs: this.startedWall, monoMs: this.startedAt }, this.seq, fps)
      : { ts: this.clock.now(), monoTs: this.clock.monotonicMs() };
    const frame: Frame = { data, width: size.width, height: size.height, ts, monoTs, seq: this.seq++ };
    this.handlers.onFrame(frame);
  }

  private onStderrLine(raw: string, sizeDetector: OutputSizeDetector): { width: number; height: number } | null {
    const line = parseFfmpegLogLine(raw);
    const text = redactText(line.text);
    const revealed = sizeDetector.push(line.text.trim());
    const change = this.inputSize.push(line.text);
    if (change) this.onInputResized(change);
    const isProblem = line.level === 'error' || line.level === 'fatal' || line.level === 'panic';
    if (isProblem) {
      this.errorLines.push(text);
      if (this.errorLines.length > ERROR_LINES_KEPT) this.errorLines.shift();
    }
    if (line.level === 'warning' || isProblem) {
      this.logRateLimited(isProblem ? 'error' : 'warn', text);
    } else {
      this.opts.logger.trace({ ffmpeg: text }, 'ffmpeg');
    }
    return revealed;
  }

  /**
   * The decoded picture changed size. ffmpeg keeps the run's output size by
   * stretching (see InputSizeWatcher), so frames stay whole, but the aspect is
   * wrong from here on. A live source is restarted cleanly: the next run reads
   * the new size from ffmpeg's output line, and no distorted frame is passed on.
   * A file cannot be restarted where it was without replaying it, so it plays
   * on, stretched, with a warning.
   */
  private onInputResized(change: SizeChange): void {
    const from = `${change.from.width}x${change.from.height}`;
    const to = `${change.to.width}x${change.to.height}`;
    if (this.opts.input.kind === 'file') {
      if (!this.resizeNoted) {
        this.opts.logger.warn(
          { from, to, frameSize: this.size },
          'input resolution changed mid-file; ffmpeg scales it into the first frame size until the file ends',
        );
      }
      this.resizeNoted = true;
      return;
    }
    if (this.failure || this.stopRequested) return;
    const message = `input resolution changed from ${from} to ${to}; capture restarted for the new size`;
    this.opts.logger.warn({ from, to }, 'input resolution changed; restarting ffmpeg');
    this.failure = new CaptureError('resized', message, true);
    this.signalGroup('SIGTERM');
  }

  private logRateLimited(level: 'warn' | 'error', text: string): void {
    const t = this.clock.monotonicMs();
    if (t - this.logWindowStart >= LOG_WINDOW_MS) {
      if (this.suppressedLines > 0) {
        this.opts.logger.warn({ suppressed: this.suppressedLines }, 'ffmpeg stderr lines suppressed (rate limit)');
      }
      this.logWindowStart = t;
      this.logLinesInWindow = 0;
      this.suppressedLines = 0;
    }
    if (this.logLinesInWindow++ < LOG_LINES_PER_WINDOW) {
      this.opts.logger[level]({ ffmpeg: text }, 'ffmpeg stderr');
    } else {
      this.suppressedLines++;
    }
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    const handlers = this.handlers;
    if (!handlers) return;
    if (this.stopRequested && !this.failure) {
      handlers.onExit(null);
      return;
    }
    const error =
      this.failure ??
      classifyFfmpegExit(
        {
          code,
          signal,
          errorLines: this.errorLines,
          framesReceived: this.seq,
          elapsedMs: this.clock.monotonicMs() - this.startedAt,
          ioTimeoutMs: this.opts.ioTimeoutMs ?? DEFAULT_IO_TIMEOUT_MS,
        },
        this.opts.input,
      );
    this.opts.logger.debug({ code, signal, frames: this.seq, kind: error.kind }, 'ffmpeg exited');
    handlers.onExit(error);
  }
}
