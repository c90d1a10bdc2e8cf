import type { CameraState } from '@crowdlens/contracts';
import { redactText } from '@crowdlens/config';
import type { Logger } from '@crowdlens/runtime';
import { SYSTEM_CLOCK, type Clock } from '@crowdlens/runtime/clock';
import type { Frame } from '../frame';
import { ExponentialBackoff, type BackoffOptions } from '@crowdlens/runtime/backoff';
import { CaptureError } from './capture-error';
import type { FrameSource } from './frame-source.port';

export interface CameraSupervisorOptions {
  readonly cameraId: string;
  /** Logger bound to the camera. */
  readonly logger: Logger;
  /** Builds the source for one run; may throw a configuration error (bad URL, no ffmpeg): the camera fails. */
  readonly createSource: () => FrameSource;
  /** A file source that ends is `stopped`; a live source that ends is reconnected. */
  readonly isFile: boolean;
  readonly onFrame: (frame: Frame) => void;
  readonly onStateChange: (state: CameraState, lastError: string | null) => void;
  readonly backoff?: Partial<BackoffOptions>;
  /** No frame for this long while streaming: restart ffmpeg. Must exceed the frame interval. */
  readonly stallTimeoutMs?: number;
  /** No first frame this long after start: restart (ffmpeg's own timeouts usually fire first). */
  readonly connectTimeoutMs?: number;
  /** A run that streamed this long resets the backoff, so a flapping camera still backs off. */
  readonly stableAfterMs?: number;
  /** Consecutive failed runs before giving up (`failed`). Default: retry forever, a store camera should come back. */
  readonly maxRetries?: number;
  /** Only its monotonic reading is used: a wall-clock step must neither fake a stall nor hide one. */
  readonly clock?: Clock;
  readonly random?: () => number;
}

/**
 * Keeps one camera's capture alive: connecting -> streaming, on failure
 * backoff -> connecting again, `failed` when retrying cannot help (missing
 * file, not a video, wrong password) and `stopped` when a file ends or on
 * `stop()`. A watchdog restarts a run that stops delivering frames: ffmpeg
 * can hang on a half-open TCP connection without ever exiting.
 */
export class CameraSupervisor {
  private stateValue: CameraState = 'stopped';
  private lastErrorValue: string | null = null;
  private source: FrameSource | null = null;
  /** Incremented per run; events from an older run are ignored. */
  private run = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private lastProgressAt = 0;
  private streamingSince = 0;
  private paused = false;
  private stopping = false;
  private pendingStall: CaptureError | null = null;
  private lastResizeAt = Number.NEGATIVE_INFINITY;
  private readonly backoff: ExponentialBackoff;
  private readonly now: () => number;
  private readonly stallTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly stableAfterMs: number;
  private readonly maxRetries: number;

  framesIn = 0;
  reconnects = 0;

  constructor(private readonly opts: CameraSupervisorOptions) {
    const clock = opts.clock ?? SYSTEM_CLOCK;
    this.now = () => clock.monotonicMs();
    this.backoff = new ExponentialBackoff(opts.backoff, opts.random);
    this.stallTimeoutMs = opts.stallTimeoutMs ?? 10_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 30_000;
    this.stableAfterMs = opts.stableAfterMs ?? 30_000;
    this.maxRetries = opts.maxRetries ?? Number.POSITIVE_INFINITY;
  }

  get state(): CameraState {
    return this.stateValue;
  }

  /** Redacted. */
  get lastError(): string | null {
    return this.lastErrorValue;
  }

  start(): void {
    if (this.source || this.retryTimer) return;
    this.stopping = false;
    this.backoff.reset();
    this.startRun();
    const tick = Math.max(100, Math.min(1000, this.stallTimeoutMs / 4));
    this.watchdog = setInterval(() => this.checkStall(), tick);
    this.watchdog.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.retryTimer = null;
    this.watchdog = null;
    const source = this.source;
    this.source = null;
    this.run++;
    if (source) await source.stop();
    this.setState('stopped', this.lastErrorValue);
  }

  /** Backpressure from the pipeline; only used for files read faster than real time. */
  pause(): void {
    this.paused = true;
    this.source?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // Waiting on the pipeline is not a stall.
    this.lastProgressAt = this.now();
    this.source?.resume();
  }

  private startRun(): void {
    const run = ++this.run;
    this.retryTimer = null;
    this.pendingStall = null;
    this.streamingSince = 0;
    this.lastProgressAt = this.now();
    this.setState('connecting', this.lastErrorValue);
    let source: FrameSource;
    try {
      source = this.opts.createSource();
    } catch (err) {
      this.fail(redactText(err instanceof Error ? err.message : String(err)));
      return;
    }
    this.source = source;
    source.start({
      onStart: (size) => {
        if (run !== this.run) return;
        this.opts.logger.info({ width: size.width, height: size.height }, 'camera video started');
      },
      onFrame: (frame) => {
        if (run !== this.run) return;
        this.lastProgressAt = this.now();
        this.framesIn++;
        if (this.stateValue !== 'streaming') {
          this.streamingSince = this.lastProgressAt;
          this.setState('streaming', null);
        }
        this.opts.onFrame(frame);
      },
      onExit: (error) => {
        if (run !== this.run) return;
        this.source = null;
        this.onRunEnded(error ?? this.pendingStall);
      },
    });
    if (this.paused) source.pause();
  }

  private onRunEnded(error: CaptureError | null): void {
    if (this.stopping || !error) return;
    if (this.streamingSince > 0 && this.now() - this.streamingSince >= this.stableAfterMs) this.backoff.reset();

    if (error.kind === 'ended' && this.opts.isFile) {
      this.opts.logger.info({ reason: error.message }, 'file source ended');
      this.shutdownTimers();
      this.setState('stopped', null);
      return;
    }
    if (!error.retryable) {
      this.fail(error.message);
      return;
    }
    // A resolution change is not a failure: restart at once. Only a source that
    // keeps changing size (twice within 10 s) goes through the backoff.
    if (error.kind === 'resized' && this.now() - this.lastResizeAt > 10_000) {
      this.lastResizeAt = this.now();
      this.opts.logger.info({ reason: error.message }, 'restarting capture for the new resolution');
      this.lastErrorValue = error.message;
      this.reconnects++;
      this.startRun();
      return;
    }
    if (this.backoff.attempt >= this.maxRetries) {
      this.fail(`${error.message} (gave up after ${this.backoff.attempt + 1} attempts)`);
      return;
    }
    const delay = this.backoff.next();
    this.opts.logger.warn(
      { kind: error.kind, reason: error.message, retryInMs: delay },
      'camera capture failed; retrying',
    );
    this.setState('backoff', error.message);
    this.retryTimer = setTimeout(() => {
      this.reconnects++;
      this.startRun();
    }, delay);
  }

  private fail(reason: string): void {
    this.opts.logger.error({ reason }, 'camera failed');
    this.shutdownTimers();
    this.setState('failed', reason);
  }

  private shutdownTimers(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private checkStall(): void {
    const source = this.source;
    if (!source || this.paused || this.pendingStall) return;
    const connecting = this.stateValue === 'connecting';
    const limit = connecting ? this.connectTimeoutMs : this.stallTimeoutMs;
    const idle = this.now() - this.lastProgressAt;
    if (idle < limit) return;
    const seconds = Math.round(idle / 1000);
    this.pendingStall = new CaptureError(
      'stalled',
      connecting ? `no video within ${seconds} s of connecting` : `stream stalled: no frame for ${seconds} s`,
      true,
    );
    this.opts.logger.warn({ idleMs: idle }, 'camera stalled; restarting ffmpeg');
    // The source reports onExit(null) after a requested stop; pendingStall supplies the reason.
    void source.stop();
  }

  private setState(state: CameraState, lastError: string | null): void {
    const changed = state !== this.stateValue || lastError !== this.lastErrorValue;
    this.stateValue = state;
    this.lastErrorValue = lastError;
    if (changed) this.opts.onStateChange(state, lastError);
  }
}
