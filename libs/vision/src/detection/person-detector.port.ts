import type { Box } from '@crowdlens/contracts';
import type { Frame } from '../frame';

export interface PersonDetection {
  /** Whole body (or the visible part), clamped to the frame, frame pixels. */
  readonly box: Box;
  /** Detector confidence, 0..1. */
  readonly score: number;
}

/**
 * A person (body) detector backend: footfall where faces are too small to
 * find. Same borrowing rule as FaceDetector: `detect` may lend `frame.data`
 * out and restores it before resolving. Runs on the calling thread; the
 * detector worker pool gives it its own thread.
 */
export interface PersonDetector {
  /** Runtime in use (onnxruntime provider), for logs and metrics. */
  readonly backend: string;
  readonly fallbackReason?: string | null;
  load(): Promise<void>;
  detect(frame: Frame): Promise<PersonDetection[]>;
  close(): Promise<void>;
}
