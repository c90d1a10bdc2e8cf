/**
 * NanoDet (GFL head) output decoding and class-aware NMS, in plain TypeScript
 * on onnxruntime's output arrays.
 *
 * Per stride s (8, 16, 32) the graph gives, for each cell of the
 * (inputWidth / s) x (inputHeight / s) grid in row-major order:
 *   - cls: 80 COCO class scores, sigmoid already applied;
 *   - reg: 4 x 11 logits, a discrete distribution over 0..10 for each of the
 *     distances left, top, right, bottom from the cell centre, in strides.
 * A distance is the distribution's expectation (softmax, then sum of
 * bin * p), times the stride; the cell centre is ((col + 0.5) s, (row + 0.5) s).
 * (human's own nanodet.ts takes the argmax bin and scales boxes by 2.5; the
 * expectation is what NanoDet was trained with and gives tighter boxes.)
 */

export const NANODET_STRIDES: readonly number[] = [8, 16, 32];
export const NANODET_CLASSES = 80;
/** reg_max 10: 11 bins per side. */
export const NANODET_REG_BINS = 11;
/** COCO class 0. */
export const COCO_PERSON = 0;

export interface NanodetLevelOutput {
  readonly stride: number;
  /** [cells, 80] */
  readonly cls: Float32Array;
  /** [cells, 4 * 11] */
  readonly reg: Float32Array;
}

/** A box in input-tensor pixels (x0, y0 top-left; x1, y1 bottom-right). */
export interface NanodetBox {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  readonly score: number;
  readonly classId: number;
}

export interface NanodetDecodeOptions {
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly minScore: number;
  /** Classes to keep; everything else is skipped before any box is decoded. */
  readonly classIds: readonly number[];
}

const bins = Float32Array.from({ length: NANODET_REG_BINS }, (_, i) => i);

/** Expected bin of one side's 11 logits (a numerically safe softmax). */
function expectedDistance(reg: Float32Array, at: number): number {
  let max = -Infinity;
  for (let i = 0; i < NANODET_REG_BINS; i += 1) max = Math.max(max, reg[at + i]);
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < NANODET_REG_BINS; i += 1) {
    const e = Math.exp(reg[at + i] - max);
    sum += e;
    weighted += e * bins[i];
  }
  return weighted / sum;
}

/** Every kept-class score at or above minScore, as a box in input pixels. */
export function decodeNanodet(levels: readonly NanodetLevelOutput[], opts: NanodetDecodeOptions): NanodetBox[] {
  const out: NanodetBox[] = [];
  for (const { stride, cls, reg } of levels) {
    const cols = opts.inputWidth / stride;
    const rows = opts.inputHeight / stride;
    const cells = cols * rows;
    if (!Number.isInteger(cols) || !Number.isInteger(rows)) {
      throw new RangeError(`input ${opts.inputWidth}x${opts.inputHeight} is not a multiple of stride ${stride}`);
    }
    if (cls.length !== cells * NANODET_CLASSES || reg.length !== cells * 4 * NANODET_REG_BINS) {
      throw new RangeError(
        `stride ${stride}: expected ${cells} cells (${cols}x${rows}), got cls ${cls.length / NANODET_CLASSES}, ` +
          `reg ${reg.length / (4 * NANODET_REG_BINS)}`,
      );
    }
    for (let cell = 0; cell < cells; cell += 1) {
      for (const classId of opts.classIds) {
        const score = cls[cell * NANODET_CLASSES + classId];
        if (!(score >= opts.minScore)) continue;
        const cx = ((cell % cols) + 0.5) * stride;
        const cy = (Math.floor(cell / cols) + 0.5) * stride;
        const r = cell * 4 * NANODET_REG_BINS;
        out.push({
          x0: cx - expectedDistance(reg, r) * stride,
          y0: cy - expectedDistance(reg, r + NANODET_REG_BINS) * stride,
          x1: cx + expectedDistance(reg, r + 2 * NANODET_REG_BINS) * stride,
          y1: cy + expectedDistance(reg, r + 3 * NANODET_REG_BINS) * stride,
          score,
          classId,
        });
      }
    }
  }
  return out;
}

export function boxIou(a: NanodetBox, b: NanodetBox): number {
  const iw = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const ih = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy NMS, best score first, within each class only: a person standing in
 * front of a bicycle must not suppress it (or be suppressed by it). Returns at
 * most maxResults boxes, best first.
 */
export function classAwareNms(boxes: readonly NanodetBox[], iouThreshold: number, maxResults: number): NanodetBox[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score);
  const kept: NanodetBox[] = [];
  for (const box of sorted) {
    if (kept.length >= maxResults) break;
    if (kept.every((k) => k.classId !== box.classId || boxIou(k, box) <= iouThreshold)) kept.push(box);
  }
  return kept;
}
