/**
 * One decoded video frame: tightly packed RGB24, row-major, `width * height * 3`
 * bytes. `data` is deliberately mutable: a detector running in a worker thread
 * borrows the underlying ArrayBuffer (transfer, no copy) and hands it back by
 * reassigning `data` before its `detect()` resolves.
 */
export interface Frame {
  data: Buffer;
  readonly width: number;
  readonly height: number;
  /** Capture time on the wall clock, epoch ms: what messages carry. May jump with the clock. */
  readonly ts: number;
  /**
   * Capture time on the monotonic clock (ms, arbitrary origin): what tracking and every duration
   * use, since it never goes back when the wall clock is stepped.
   */
  readonly monoTs: number;
  /** 0-based index within one ffmpeg run; orders frames when detections finish out of order. */
  readonly seq: number;
}

export function frameByteLength(width: number, height: number): number {
  return width * height * 3;
}

/** Detectors read `data` as packed RGB: a buffer of another size would be read as garbage, so refuse it. */
export function assertRgbFrame(frame: Pick<Frame, 'data' | 'width' | 'height'>): void {
  const expected = frameByteLength(frame.width, frame.height);
  if (frame.data.length !== expected) {
    throw new RangeError(
      `frame buffer has ${frame.data.length} bytes, expected ${expected} for ${frame.width}x${frame.height} RGB`,
    );
  }
}
