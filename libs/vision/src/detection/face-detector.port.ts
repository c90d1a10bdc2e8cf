import type { Box } from '@crowdlens/contracts';
import type { Frame } from '../frame';

export interface FaceDetection {
  /** Clamped to the frame, frame pixels. */
  readonly box: Box;
  /** Detector confidence, 0..1. */
  readonly score: number;
}

/** Per-call settings: one detector (one worker pool) serves cameras that need different ones. */
export interface FaceDetectOptions {
  /**
   * Network input for this frame, longer side in px (a multiple of 32), instead of the detector's
   * configured `inputSize`: a camera whose faces are large detects at less cost. Detectors with a
   * fixed input (the SSD, always 512x512) ignore it.
   */
  readonly inputSize?: number;
  /**
   * Confidence a face needs on this frame, instead of the detector's configured `minScore`: a
   * camera with hard light or busy backgrounds can ask for more, one with small, soft faces for less.
   */
  readonly minScore?: number;
}

/**
 * A face detector backend. `detect` may borrow `frame.data` while it runs (a
 * worker-thread detector transfers the buffer to the worker and back) and
 * always restores it before the promise settles successfully; after a
 * rejection the frame must be treated as consumed.
 */
export interface FaceDetector {
  /** Detections it can run at once; callers keep this many frames in flight. */
  readonly concurrency: number;
  /** Runtime in use (TF.js backend or onnxruntime provider), for logs and metrics. */
  readonly backend: string;
  /** Set by load() when the configured execution provider could not start and the detector fell back to CPU. */
  readonly fallbackReason?: string | null;
  load(): Promise<void>;
  detect(frame: Frame, options?: FaceDetectOptions): Promise<FaceDetection[]>;
  close(): Promise<void>;
}
