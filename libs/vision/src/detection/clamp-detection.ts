import type { FaceDetection } from './face-detector.port';

/**
 * Clamps a detector box to the frame (detectors happily return boxes that
 * start at x = -12) and drops faces below the minimum size.
 */
export function clampDetection(
  raw: { x: number; y: number; width: number; height: number },
  score: number,
  frame: { width: number; height: number },
  minFaceSize: number,
): FaceDetection | null {
  const x0 = Math.max(0, raw.x);
  const y0 = Math.max(0, raw.y);
  const x1 = Math.min(frame.width, raw.x + raw.width);
  const y1 = Math.min(frame.height, raw.y + raw.height);
  const width = x1 - x0;
  const height = y1 - y0;
  // Size is judged on the detector's box: a face half out of frame is still a face of that size.
  if (width <= 0 || height <= 0 || Math.min(raw.width, raw.height) < minFaceSize) return null;
  return { box: { x: x0, y: y0, width, height }, score: Math.min(1, Math.max(0, score)) };
}
