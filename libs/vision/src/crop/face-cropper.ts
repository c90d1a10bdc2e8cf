import sharp from 'sharp';
import type { Box } from '@crowdlens/contracts';
import type { Frame } from '../frame';

export interface FaceCropperOptions {
  /** Context added around the detector box, as a fraction of its longer side (split over both sides). */
  readonly margin: number;
  /** Output side, px (the classifier contract is 224). */
  readonly size: number;
  readonly jpegQuality: number;
  /** Face side (px, in the frame) at which the size part of the quality score saturates. */
  readonly fullQualityFaceSize: number;
}

export const DEFAULT_CROPPER_OPTIONS: FaceCropperOptions = {
  margin: 0.25,
  size: 224,
  jpegQuality: 90,
  // Half the output size: smaller faces are upscaled more than 2x and lose detail.
  fullQualityFaceSize: 112,
};

export interface CropRegion {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Laplacian variance at which the sharpness part of the score reaches 0.5 (64x64 grey face). */
const SHARPNESS_HALF_POINT = 150;
const ASSESS_SIDE = 64;

/**
 * Turns a detector box into the classifier's input: a square region around
 * the face (with some hair and chin, as in the face datasets classifiers are
 * trained on), clamped into the frame, resized to 224x224, JPEG. Also scores
 * how useful a crop would be, so that each track sends only its best few.
 * All pixel work runs in sharp (libvips, off the JS thread).
 */
export class FaceCropper {
  readonly options: FaceCropperOptions;

  constructor(options: Partial<FaceCropperOptions> = {}) {
    this.options = { ...DEFAULT_CROPPER_OPTIONS, ...options };
  }

  /** Square, margin-expanded region around the box, shifted (never squashed) to stay inside the frame. */
  region(box: Box, frame: { width: number; height: number }): CropRegion {
    const side0 = Math.max(box.width, box.height) * (1 + this.options.margin);
    const side = Math.max(1, Math.round(Math.min(side0, frame.width, frame.height)));
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    const left = clamp(Math.round(cx - side / 2), 0, frame.width - side);
    const top = clamp(Math.round(cy - side / 2), 0, frame.height - side);
    return { left, top, width: side, height: side };
  }

  /**
   * The most `quality` can give this box: its size and detector parts, with sharpness and
   * frontality at their maximum of 1. Cheap (no pixel is read), so a track whose best crop
   * already beats it is not scored at all.
   */
  qualityBound(box: Box, detectionScore: number): number {
    return clamp(this.weighted(box, detectionScore, 1, 1), 0, 1);
  }

  /**
   * Quality 0..1: face size (small faces upscale badly), sharpness (motion
   * blur, focus; Laplacian variance of a small grey copy), frontality (a
   * frontal face is close to its own mirror image, a profile is not) and
   * detector confidence (occluded faces score lower).
   */
  async quality(frame: Frame, box: Box, detectionScore: number): Promise<number> {
    // Scored for most faces of most frames: plain JS on the frame buffer (a
    // fraction of a millisecond) rather than a libvips pipeline whose thread
    // pool would compete with the detector workers for the cores.
    const grey = greyPatch(frame, this.region(box, frame), ASSESS_SIDE);
    const sharpness = laplacianVariance(grey, ASSESS_SIDE, ASSESS_SIDE);
    const sharpScore = sharpness / (sharpness + SHARPNESS_HALF_POINT);
    const frontal = mirrorSymmetry(grey, ASSESS_SIDE, ASSESS_SIDE);
    return clamp(this.weighted(box, detectionScore, sharpScore, frontal), 0, 1);
  }

  private weighted(box: Box, detectionScore: number, sharpScore: number, frontal: number): number {
    const sizeScore = Math.min(1, Math.min(box.width, box.height) / this.options.fullQualityFaceSize);
    return 0.4 * sizeScore + 0.3 * sharpScore + 0.15 * frontal + 0.15 * clamp(detectionScore, 0, 1);
  }

  async jpeg(frame: Frame, box: Box): Promise<Buffer> {
    const { size, jpegQuality } = this.options;
    return this.image(frame)
      .extract(this.region(box, frame))
      .resize(size, size, { fit: 'fill' })
      .jpeg({ quality: jpegQuality, chromaSubsampling: '4:2:0' })
      .toBuffer();
  }

  private image(frame: Frame): ReturnType<typeof sharp> {
    return sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } });
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/**
 * Grey `side` x `side` copy of a frame region, each cell the mean of the
 * pixels it covers (area averaging, as a resize would do; at most 2x2 samples
 * per cell are read, enough for a sharpness estimate).
 */
export function greyPatch(frame: Frame, region: CropRegion, side: number): Uint8Array {
  const out = new Uint8Array(side * side);
  const src = frame.data;
  const stride = frame.width * 3;
  const cell = region.width / side;
  const cellH = region.height / side;
  // The 2 sampled columns (as byte offsets) and rows (as row offsets) of every cell, worked out
  // once: the frame is read 4 x side^2 times for each face of each analysed frame.
  const columns = new Int32Array(side * 2);
  const rows = new Int32Array(side * 2);
  for (let c = 0; c < side; c++) {
    for (let d = 0; d < 2; d++) {
      const x = Math.min(frame.width - 1, Math.floor(region.left + c * cell + (d + 0.5) * (cell / 2)));
      columns[c * 2 + d] = x * 3;
      const y = Math.min(frame.height - 1, Math.floor(region.top + c * cellH + (d + 0.5) * (cellH / 2)));
      rows[c * 2 + d] = y * stride;
    }
  }
  for (let cy = 0; cy < side; cy++) {
    const r0 = rows[cy * 2] as number;
    const r1 = rows[cy * 2 + 1] as number;
    for (let cx = 0; cx < side; cx++) {
      const x0 = columns[cx * 2] as number;
      const x1 = columns[cx * 2 + 1] as number;
      let sum = 0;
      let i = r0 + x0;
      sum += ((src[i] as number) * 77 + (src[i + 1] as number) * 150 + (src[i + 2] as number) * 29) >> 8;
      i = r0 + x1;
      sum += ((src[i] as number) * 77 + (src[i + 1] as number) * 150 + (src[i + 2] as number) * 29) >> 8;
      i = r1 + x0;
      sum += ((src[i] as number) * 77 + (src[i + 1] as number) * 150 + (src[i + 2] as number) * 29) >> 8;
      i = r1 + x1;
      sum += ((src[i] as number) * 77 + (src[i + 1] as number) * 150 + (src[i + 2] as number) * 29) >> 8;
      out[cy * side + cx] = Math.round(sum / 4);
    }
  }
  return out;
}

/** Variance of the 4-neighbour Laplacian over the interior pixels; high = sharp edges, low = blur. */
export function laplacianVariance(grey: Uint8Array, width: number, height: number): number {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const lap =
        (grey[i - 1] as number) +
        (grey[i + 1] as number) +
        (grey[i - width] as number) +
        (grey[i + width] as number) -
        4 * (grey[i] as number);
      sum += lap;
      sumSq += lap * lap;
      n++;
    }
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

/**
 * How alike the left half of a patch and its mirrored right half are, 0..1
 * (Pearson correlation, negatives clamped). The gender classifiers are trained
 * on mostly frontal faces, and a frontal face is nearly mirror-symmetric while
 * a profile or a turned head is not. Only the central 80 % of the rows and
 * columns are compared: the crop margin holds background, not face.
 */
export function mirrorSymmetry(grey: Uint8Array, width: number, height: number): number {
  const x0 = Math.floor(width * 0.1);
  const y0 = Math.floor(height * 0.1);
  const y1 = height - y0;
  const mid = Math.floor(width / 2);
  let n = 0;
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < mid; x++) {
      const a = grey[y * width + x] as number;
      const b = grey[y * width + (width - 1 - x)] as number;
      n++;
      sa += a;
      sb += b;
      saa += a * a;
      sbb += b * b;
      sab += a * b;
    }
  }
  if (n === 0) return 0;
  const cov = sab / n - (sa / n) * (sb / n);
  const va = saa / n - (sa / n) ** 2;
  const vb = sbb / n - (sb / n) ** 2;
  // A flat patch has no structure to compare: no evidence of a frontal face.
  if (va < 1 || vb < 1) return 0;
  return clamp(cov / Math.sqrt(va * vb), 0, 1);
}
