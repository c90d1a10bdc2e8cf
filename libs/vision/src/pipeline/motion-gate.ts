import type { Frame } from '../frame';
import { boundedMemo } from '../bounded-memo';

export interface MotionGateOptions {
  /** false: every frame goes to detection. */
  readonly enabled: boolean;
  /** Change of a thumbnail cell's mean grey level (0-255) that counts as motion; above compression noise. */
  readonly pixelThreshold: number;
  /**
   * Fraction of thumbnail cells that must change for the frame to be analysed.
   * At the default 0.002 and a 64-cell-wide thumbnail of a 640 px frame, a
   * 40 px face moving by half its size changes several times that.
   */
  readonly minChangedFraction: number;
  /** A frame is analysed at least this often in a still scene (the safety net: slow light changes, a very still person). */
  readonly maxSkipMs: number;
  /** Thumbnail width in cells (height follows the frame's aspect). */
  readonly thumbnailWidth: number;
}

export const DEFAULT_MOTION_GATE: MotionGateOptions = {
  enabled: true,
  pixelThreshold: 10,
  minChangedFraction: 0.002,
  maxSkipMs: 1000,
  thumbnailWidth: 64,
};

export interface GreyThumbnail {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Which thumbnail cell each sampled column and row falls in, and how many samples each cell gets. */
interface ThumbnailLayout {
  readonly width: number;
  readonly height: number;
  /** Sampled columns (x = 2k) of cell column c: k from columnStart[c] to columnStart[c + 1]. */
  readonly columnStart: Int32Array;
  /** First cell index of the cell row of sampled row y = 2k. */
  readonly cellRowOf: Int32Array;
  readonly counts: Uint32Array;
}

/** A camera's frames keep one size; a few layouts cover every camera of a process. */
const layouts = new Map<string, ThumbnailLayout>();
const MAX_LAYOUTS = 32;

function thumbnailLayout(frameWidth: number, frameHeight: number, thumbnailWidth: number): ThumbnailLayout {
  return boundedMemo(layouts, `${frameWidth}x${frameHeight}/${thumbnailWidth}`, MAX_LAYOUTS, () =>
    newThumbnailLayout(frameWidth, frameHeight, thumbnailWidth),
  );
}

function newThumbnailLayout(frameWidth: number, frameHeight: number, thumbnailWidth: number): ThumbnailLayout {
  const tw = Math.max(1, Math.min(thumbnailWidth, frameWidth));
  const cell = frameWidth / tw;
  const th = Math.max(1, Math.round(frameHeight / cell));
  const cellH = frameHeight / th;
  const sampledColumns = Math.ceil(frameWidth / 2);
  // Cells are contiguous runs of columns: where each one starts is all a row needs.
  const columnStart = new Int32Array(tw + 1);
  columnStart.fill(sampledColumns);
  for (let k = sampledColumns - 1; k >= 0; k--) columnStart[Math.min(tw - 1, Math.floor((2 * k) / cell))] = k;
  for (let c = tw - 1; c >= 0; c--) columnStart[c] = Math.min(columnStart[c] as number, columnStart[c + 1] as number);
  const cellRowOf = new Int32Array(Math.ceil(frameHeight / 2));
  for (let k = 0; k < cellRowOf.length; k++) cellRowOf[k] = Math.min(th - 1, Math.floor((2 * k) / cellH)) * tw;
  const counts = new Uint32Array(tw * th);
  for (let r = 0; r < cellRowOf.length; r++)
    for (let c = 0; c < tw; c++) {
      const t = (cellRowOf[r] as number) + c;
      counts[t] = (counts[t] as number) + (columnStart[c + 1] as number) - (columnStart[c] as number);
    }
  return { width: tw, height: th, columnStart, cellRowOf, counts };
}

/**
 * Box-averaged grey thumbnail of an RGB24 frame. Averaging (rather than
 * picking one pixel per cell) is what makes the comparison deaf to sensor and
 * compression noise. Every other pixel of every other row is read, and which
 * cell a pixel belongs to comes from a per-size table: it runs for every
 * frame of every camera, so it must cost a fraction of a millisecond.
 */
export function greyThumbnail(frame: Frame, thumbnailWidth: number): GreyThumbnail {
  const {
    width: tw,
    height: th,
    columnStart,
    cellRowOf,
    counts,
  } = thumbnailLayout(frame.width, frame.height, thumbnailWidth);
  const sums = new Uint32Array(tw * th);
  const src = frame.data;
  const rowStride = frame.width * 6;
  for (let r = 0; r < cellRowOf.length; r++) {
    const base = cellRowOf[r] as number;
    const row = r * rowStride;
    for (let c = 0; c < tw; c++) {
      const end = row + (columnStart[c + 1] as number) * 6;
      let sum = 0;
      for (let i = row + (columnStart[c] as number) * 6; i < end; i += 6) {
        // Integer luma (BT.601 weights x 256).
        sum += ((src[i] as number) * 77 + (src[i + 1] as number) * 150 + (src[i + 2] as number) * 29) >> 8;
      }
      sums[base + c] = (sums[base + c] as number) + sum;
    }
  }
  const data = new Uint8Array(tw * th);
  for (let i = 0; i < data.length; i++)
    data[i] = (counts[i] as number) > 0 ? Math.round((sums[i] as number) / (counts[i] as number)) : 0;
  return { data, width: tw, height: th };
}

/** Fraction of cells whose grey level differs by more than `pixelThreshold`. */
export function changedFraction(a: GreyThumbnail, b: GreyThumbnail, pixelThreshold: number): number {
  if (a.width !== b.width || a.height !== b.height) return 1;
  let changed = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (Math.abs((a.data[i] as number) - (b.data[i] as number)) > pixelThreshold) changed++;
  }
  return changed / a.data.length;
}

/**
 * Skips detection on frames where nothing changed. Each frame is compared
 * with the last frame that was analysed (not with its predecessor), so slow
 * change accumulates until it counts; and one frame per `maxSkipMs` is
 * analysed regardless. A still, empty shop then costs a frame diff per frame
 * instead of a detector run.
 */
export class MotionGate {
  private reference: GreyThumbnail | null = null;
  private referenceTs = Number.NEGATIVE_INFINITY;
  private lastChange = 0;
  readonly options: MotionGateOptions;

  constructor(options: Partial<MotionGateOptions> = {}) {
    this.options = { ...DEFAULT_MOTION_GATE, ...options };
    const { pixelThreshold, minChangedFraction, maxSkipMs, thumbnailWidth } = this.options;
    if (
      !(pixelThreshold >= 0) ||
      !(minChangedFraction >= 0 && minChangedFraction <= 1) ||
      !(maxSkipMs >= 0) ||
      !(thumbnailWidth >= 1)
    ) {
      throw new RangeError(`invalid motion gate options ${JSON.stringify(this.options)}`);
    }
  }

  /** Changed fraction measured for the last frame offered (diagnostics, tests). */
  get lastChangedFraction(): number {
    return this.lastChange;
  }

  /** True when the frame should go to detection; it then becomes the new reference. */
  shouldAnalyse(frame: Frame): boolean {
    if (!this.options.enabled) return true;
    const thumb = greyThumbnail(frame, this.options.thumbnailWidth);
    const ref = this.reference;
    this.lastChange = ref ? changedFraction(ref, thumb, this.options.pixelThreshold) : 1;
    const due = frame.monoTs - this.referenceTs >= this.options.maxSkipMs;
    if (!ref || due || this.lastChange >= this.options.minChangedFraction) {
      this.reference = thumb;
      this.referenceTs = frame.monoTs;
      return true;
    }
    return false;
  }

  /** A new capture run: the next frame is analysed. */
  reset(): void {
    this.reference = null;
    this.referenceTs = Number.NEGATIVE_INFINITY;
  }
}
