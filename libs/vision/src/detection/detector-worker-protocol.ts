import type { DetectorConfig, PersonDetectorConfig } from '@crowdlens/config';
import type { FaceDetectOptions, FaceDetection } from './face-detector.port';
import type { PersonDetection } from './person-detector.port';

/** Messages between DetectorWorkerPool and detector-worker, kept in one place so both sides agree. */

/** Face detector settings, and the person detector's when people are counted (null: faces only). */
export interface SceneDetectorConfig {
  readonly faces: DetectorConfig;
  readonly people: PersonDetectorConfig | null;
}

export interface DetectorWorkerData {
  readonly config: SceneDetectorConfig;
}

export interface DetectRequest {
  readonly id: number;
  readonly width: number;
  readonly height: number;
  /** Transferred, not copied; sent back with the reply. */
  readonly buffer: ArrayBuffer;
  /** This frame's face detector settings (the camera's input size, threshold); absent: its configured ones. */
  readonly face?: FaceDetectOptions;
}

export type DetectorWorkerMessage =
  | { readonly type: 'ready'; readonly backend: string; readonly fallbackReason: string | null }
  | { readonly type: 'load-error'; readonly message: string }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly faces: FaceDetection[];
      readonly people: PersonDetection[];
      readonly buffer: ArrayBuffer;
    }
  | { readonly type: 'detect-error'; readonly id: number; readonly message: string; readonly buffer: ArrayBuffer };
