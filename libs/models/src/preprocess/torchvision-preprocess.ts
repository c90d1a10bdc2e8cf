/**
 * The eval transform the ResNet50 tools train and export with, reproduced in
 * TypeScript so a served model sees the tensor it was trained on:
 *
 *   transforms.Compose([Resize(224), CenterCrop(224), ToTensor(), Normalize(mean, std)])
 *
 * applied to a PIL RGB image. Details that matter for exactness:
 * - torchvision hands PIL images to `PIL.Image.resize(..., BILINEAR)`, which
 *   always antialiases (the filter support widens by the downscale factor) and
 *   works in 8-bit fixed point with a rounded uint8 intermediate between its
 *   horizontal and vertical passes. `resizeBilinearPil` is a port of Pillow's
 *   libImaging/Resample.c for that case, so it matches to the uint8.
 * - Resize(224) scales the shorter side to 224 and the longer one to
 *   int(224 * long / short); an image already at that size is returned as is,
 *   so our 224x224 crops skip the resize entirely (the hot path).
 * - CenterCrop offsets use Python's round(), which rounds halves to even.
 * - ToTensor divides by 255 and Normalize subtracts/divides in float32; the
 *   per-channel lookup table below does the same float32 steps.
 */
import type { RgbImage } from '../gender-classifier.port';
import { IMAGENET_MEAN, IMAGENET_STD, MODEL_INPUT_SIZE } from '../manifest/model-manifest';

export interface NormalizeParams {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /** ToTensor's factor: 1/255. */
  readonly scale: number;
}

export const IMAGENET_NORMALIZE: NormalizeParams = { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD], scale: 1 / 255 };

/** torchvision `_compute_resized_output_size` for `Resize(size)` with an int size. Returns [width, height]. */
export function resizedSizeShorterSide(width: number, height: number, size: number): [number, number] {
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newShort = size;
  const newLong = Math.trunc((size * long) / short);
  return width <= height ? [newShort, newLong] : [newLong, newShort];
}

/** Python's round() for x.5 values: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision `center_crop` offsets (image at least as large as the crop). Returns [left, top]. */
export function centerCropOffsets(width: number, height: number, crop: number): [number, number] {
  return [roundHalfEven((width - crop) / 2), roundHalfEven((height - crop) / 2)];
}

const PRECISION_BITS = 32 - 8 - 2;
const ONE_HALF = 1 << (PRECISION_BITS - 1);

interface Coeffs {
  readonly ksize: number;
  /** [xmin, count] per output pixel. */
  readonly bounds: Int32Array;
  /** Fixed-point weights, ksize per output pixel. */
  readonly kk: Int32Array;
}

/** Pillow `precompute_coeffs` + `normalize_coeffs_8bpc` for the bilinear (triangle) filter over the whole image. */
function precomputeCoeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale);
  const support = 1 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const w = t < 1 ? 1 - t : 0;
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < ksize; x++) {
      const w = x < xmax && ww !== 0 ? k[x]! / ww : 0;
      kk[xx * ksize + x] =
        w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

const clip8 = (v: number): number => {
  const s = v >> PRECISION_BITS;
  return s < 0 ? 0 : s > 255 ? 255 : s;
};

/**
 * Pillow's `Image.resize((outW, outH), BILINEAR)` on an RGB image: horizontal
 * pass over the rows the vertical pass needs, rounded to uint8, then the
 * vertical pass. `scratch` is reused across calls when large enough.
 */
export function resizeBilinearPil(
  src: RgbImage,
  outW: number,
  outH: number,
  out: Uint8Array = new Uint8Array(outW * outH * 3),
  scratch?: Uint8Array,
): { data: Uint8Array; scratch: Uint8Array | undefined } {
  const { width: inW, height: inH, data } = src;
  if (inW === outW && inH === outH) {
    out.set(data.subarray(0, inW * inH * 3));
    return { data: out, scratch };
  }
  const needH = outW !== inW;
  const needV = outH !== inH;
  const horiz = precomputeCoeffs(inW, outW);
  const vert = precomputeCoeffs(inH, outH);
  const yFirst = vert.bounds[0]!;
  const yLast = vert.bounds[outH * 2 - 2]! + vert.bounds[outH * 2 - 1]!;

  let mid = data;
  let midW = inW;
  let rowOffset = 0; // row of `mid` that holds source row yFirst
  if (needH) {
    const rows = yLast - yFirst;
    const size = outW * rows * 3;
    if (!needV) {
      mid = out;
    } else {
      if (!scratch || scratch.length < size) scratch = new Uint8Array(size);
      mid = scratch;
    }
    const { ksize, bounds, kk } = horiz;
    for (let y = 0; y < rows; y++) {
      const inRow = (y + yFirst) * inW * 3;
      const outRow = y * outW * 3;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2]!;
        const xmax = bounds[xx * 2 + 1]!;
        const kBase = xx * ksize;
        let s0 = ONE_HALF;
        let s1 = ONE_HALF;
        let s2 = ONE_HALF;
        for (let x = 0; x < xmax; x++) {
          const w = kk[kBase + x]!;
          const p = inRow + (x + xmin) * 3;
          s0 += data[p]! * w;
          s1 += data[p + 1]! * w;
          s2 += data[p + 2]! * w;
        }
        const o = outRow + xx * 3;
        mid[o] = clip8(s0);
        mid[o + 1] = clip8(s1);
        mid[o + 2] = clip8(s2);
      }
    }
    midW = outW;
    rowOffset = -yFirst;
  }
  if (needV) {
    const { ksize, bounds, kk } = vert;
    for (let yy = 0; yy < outH; yy++) {
      const ymin = bounds[yy * 2]! + rowOffset;
      const ymax = bounds[yy * 2 + 1]!;
      const kBase = yy * ksize;
      for (let xx = 0; xx < midW; xx++) {
        let s0 = ONE_HALF;
        let s1 = ONE_HALF;
        let s2 = ONE_HALF;
        for (let y = 0; y < ymax; y++) {
          const w = kk[kBase + y]!;
          const p = ((y + ymin) * midW + xx) * 3;
          s0 += mid[p]! * w;
          s1 += mid[p + 1]! * w;
          s2 += mid[p + 2]! * w;
        }
        const o = (yy * midW + xx) * 3;
        out[o] = clip8(s0);
        out[o + 1] = clip8(s1);
        out[o + 2] = clip8(s2);
      }
    }
  }
  return { data: out, scratch };
}

/**
 * Writes images into a caller-owned NCHW float32 batch buffer. Reuses its own
 * scratch buffers, so the only per-image work for a 224x224 crop is one pass
 * through a 3x256 lookup table.
 */
export class TorchvisionPreprocessor {
  readonly size: number;
  /** Floats per image in the NCHW buffer: 3 * size * size. */
  readonly imageLength: number;
  private readonly lut: Float32Array;
  private resized: Uint8Array;
  private scratch: Uint8Array | undefined;

  constructor(normalize: NormalizeParams = IMAGENET_NORMALIZE, size = MODEL_INPUT_SIZE) {
    this.size = size;
    this.imageLength = 3 * size * size;
    this.lut = new Float32Array(3 * 256);
    const f = Math.fround;
    for (let c = 0; c < 3; c++) {
      const mean = f(normalize.mean[c]!);
      const std = f(normalize.std[c]!);
      // ToTensor: float32(v) / 255 (torch divides, it does not multiply by a reciprocal); then (x - mean) / std in float32.
      const divisor = f(Math.round(1 / normalize.scale));
      for (let v = 0; v < 256; v++) this.lut[c * 256 + v] = f(f(f(v / divisor) - mean) / std);
    }
    this.resized = new Uint8Array(0);
  }

  /** Allocates a buffer for `n` images. Keep it and pass it to `writeInto`. */
  allocate(n: number): Float32Array {
    return new Float32Array(n * this.imageLength);
  }

  /** Preprocesses `image` into slot `index` of `out` (NCHW). */
  writeInto(image: RgbImage, out: Float32Array, index: number): void {
    const { width, height, data } = image;
    if (!(width > 0 && height > 0) || data.length < width * height * 3) {
      throw new RangeError(
        `image ${index} is ${width}x${height} but has ${data.length} bytes, expected ${width * height * 3} (RGB)`,
      );
    }
    if ((index + 1) * this.imageLength > out.length) {
      throw new RangeError(
        `batch buffer holds ${Math.floor(out.length / this.imageLength)} images, slot ${index} is out of range`,
      );
    }
    const size = this.size;
    let pixels = data;
    let pw = width;
    let ph = height;
    const [rw, rh] = resizedSizeShorterSide(width, height, size);
    if (rw !== width || rh !== height) {
      const needed = rw * rh * 3;
      if (this.resized.length < needed) this.resized = new Uint8Array(needed);
      const r = resizeBilinearPil(image, rw, rh, this.resized.subarray(0, needed), this.scratch);
      this.scratch = r.scratch;
      pixels = r.data;
      pw = rw;
      ph = rh;
    }
    const [left, top] = centerCropOffsets(pw, ph, size);
    this.normalizeCrop(pixels, pw, left, top, out, index * this.imageLength);
  }

  /** Convenience for tests and one-off use: a fresh [1,3,size,size] tensor. */
  toTensor(image: RgbImage): Float32Array {
    const out = this.allocate(1);
    this.writeInto(image, out, 0);
    return out;
  }

  private normalizeCrop(
    pixels: Uint8Array,
    stride: number,
    left: number,
    top: number,
    out: Float32Array,
    base: number,
  ): void {
    const size = this.size;
    const plane = size * size;
    const lut = this.lut;
    for (let y = 0; y < size; y++) {
      let p = ((y + top) * stride + left) * 3;
      let o = base + y * size;
      for (let x = 0; x < size; x++, p += 3, o++) {
        out[o] = lut[pixels[p]!]!;
        out[o + plane] = lut[256 + pixels[p + 1]!]!;
        out[o + 2 * plane] = lut[512 + pixels[p + 2]!]!;
      }
    }
  }
}
