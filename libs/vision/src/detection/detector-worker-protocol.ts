import type { DetectorConfig } from '@crowdlens/config';
import type { FaceDetection } from './face-detector.port';

/** Messages between DetectorWorkerPool and detector-worker, kept in one place so both sides agree. */

export interface DetectorWorkerData {
  readonly config: DetectorConfig;
}

export interface DetectRequest {
  readonly id: number;
  readonly width: number;
  readonly height: number;
  /** Transferred, not copied; sent back with the reply. */
  readonly buffer: ArrayBuffer;
}

export type DetectorWorkerMessage =
  | { readonly type: 'ready'; readonly backend: string; readonly fallbackReason: string | null }
  | { readonly type: 'load-error'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly faces: FaceDetection[]; readonly buffer: ArrayBuffer }
  | { readonly type: 'detect-error'; readonly id: number; readonly message: string; readonly buffer: ArrayBuffer };
