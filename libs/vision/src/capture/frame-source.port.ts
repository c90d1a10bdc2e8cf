import type { Frame } from '../frame';
import type { CaptureError } from './capture-error';

export interface FrameSourceHandlers {
  /** Frame size became known: the source is producing video. */
  onStart(size: { width: number; height: number }): void;
  onFrame(frame: Frame): void;
  /** Called exactly once. `null` when the run ended because `stop()` was called. */
  onExit(error: CaptureError | null): void;
}

/** One capture run (one ffmpeg process). Restarting is the supervisor's job, not the source's. */
export interface FrameSource {
  start(handlers: FrameSourceHandlers): void;
  /** Backpressure for sources that can wait (files read faster than real time). */
  pause(): void;
  resume(): void;
  /** Resolves when the run is over and every child process is gone. */
  stop(): Promise<void>;
}
