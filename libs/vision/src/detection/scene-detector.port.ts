import type { Frame } from '../frame';
import type { FaceDetectOptions, FaceDetection } from './face-detector.port';
import type { PersonDetection } from './person-detector.port';

/** What one frame holds: faces always; people when the counting unit is people. */
export interface SceneDetections {
  readonly faces: FaceDetection[];
  readonly people: PersonDetection[];
}

/**
 * What the camera pipeline runs per frame: a face detector, and a person
 * detector beside it in people mode, behind one call so a worker thread can
 * run both on the frame it borrowed without a second transfer.
 */
export interface SceneDetector {
  /** Frames it can analyse at once; callers keep this many in flight. */
  readonly concurrency: number;
  readonly backend: string;
  readonly fallbackReason?: string | null;
  /** True when people are detected (counting unit "people"). */
  readonly detectsPeople: boolean;
  load(): Promise<void>;
  /** `options` apply to the face detector; the person detector keeps its configured input. */
  detect(frame: Frame, options?: FaceDetectOptions): Promise<SceneDetections>;
  close(): Promise<void>;
}
