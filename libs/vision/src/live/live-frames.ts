import type { CameraGeometry } from '@crowdlens/config';
import type { Box } from '@crowdlens/contracts';
import type { Frame } from '../frame';

/** One camera's latest analysed frame and what was found on it: the live view's raw material. */
export interface LiveFrame {
  readonly frame: Frame;
  readonly people: ReadonlyArray<{ readonly trackId: string; readonly box: Box }>;
  /** Every face the detector found on the frame (tracked or not): blurred in the snapshot. */
  readonly faces: readonly Box[];
  readonly geometry: CameraGeometry;
}

/**
 * The latest analysed frame of every camera of this process, in memory only:
 * one frame per camera (its RGB buffer is the pipeline's own, not a copy), so
 * what it holds is bounded by cameras × width × height × 3 bytes, never
 * written anywhere. A newer frame replaces the older one.
 */
export class LiveFrames {
  private readonly latest = new Map<string, LiveFrame>();

  update(cameraId: string, live: LiveFrame): void {
    this.latest.set(cameraId, live);
  }

  get(cameraId: string): LiveFrame | undefined {
    return this.latest.get(cameraId);
  }

  remove(cameraId: string): void {
    this.latest.delete(cameraId);
  }

  /** Bytes of frame data held now (the live view's memory). */
  bytesHeld(): number {
    let bytes = 0;
    for (const l of this.latest.values()) bytes += l.frame.data.byteLength;
    return bytes;
  }
}
