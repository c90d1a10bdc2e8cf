import type { Frame } from '../frame';

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

/**
 * Box-averaged grey thumbnail of an RGB24 frame. Averaging (rather than
 * picking one pixel per cell) is what makes the comparison deaf to sensor and
 * compression noise. Every other pixel of every other row is read: a 640x360
 * frame costs about 58k reads, a fraction of a millisecond.
 */
export function greyThumbnail(frame: Frame, thumbnailWidth: number): GreyThumbnail {
  const tw = Math.max(1, Math.min(thumbnailWidth, frame.width));
  const cell = frame.width / tw;
  const th = Math.max(1, Math.round(frame.height / cell));
  const cellH = frame.height / th;
  const sums = new Uint32Array(tw * th);
  const counts = new Uint32Array(tw * th);
  const src = frame.data;
  const stride = frame.width * 3;
  for (let y = 0; y < frame.height; y += 2) {
    const ty = Math.min(th - 1, Math.floor(y / cellH)) * tw;
    const row = y * stride;
    for (let x = 0; x < frame.width; x += 2) {
      const i = row + x * 3;
      // Integer luma (BT.601 weights x 256).
      const grey = ((src[i] as number) * 77 + (src[i + 1] as number) * 150 + (src[i + 2] as number) * 29) >> 8;
      const t = ty + Math.min(tw - 1, Math.floor(x / cell));
      sums[t] = (sums[t] as number) + grey;
      counts[t] = (counts[t] as number) + 1;
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
