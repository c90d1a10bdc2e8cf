/**
 * NanoDet's input, computed straight from the packed RGB frame into an NCHW
 * float buffer in one pass: scale the frame so its longer side is the input
 * size (aspect kept), pad right and bottom with black up to a multiple of 32,
 * reorder to BGR and normalise with NanoDet's own per-channel mean and std.
 *
 * Why not a square input: the converted graph takes any height and width that
 * are multiples of 32 (its coarsest stride), and a 4:3 camera frame padded to
 * a square would spend a quarter of the inference on black.
 * Why BGR mean/std and not /255: NanoDet was trained on OpenCV-loaded (BGR)
 * images normalised this way; with /255 it misses small people.
 */

import { boundedMemo } from '../../bounded-memo';

/** NanoDet's training normalisation, BGR order, pixel values 0..255. */
export const NANODET_MEAN_BGR: readonly [number, number, number] = [103.53, 116.28, 123.675];
export const NANODET_STD_BGR: readonly [number, number, number] = [57.375, 57.12, 58.395];
/** out = (pixel - mean) / std per BGR channel, pixel in 0..255. */
export interface BgrNormalisation {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}
/** Input height and width must be multiples of the coarsest feature stride. */
export const NANODET_SIZE_MULTIPLE = 32;

export interface NanodetGeometry {
  /** Tensor width and height, multiples of 32. */
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** The scaled frame inside the tensor, top-left; the rest is padding. */
  readonly resizedWidth: number;
  readonly resizedHeight: number;
  /** Tensor pixels per frame pixel, per axis (they differ by rounding only). */
  readonly scaleX: number;
  readonly scaleY: number;
}

export function nanodetGeometry(frameWidth: number, frameHeight: number, inputSize: number): NanodetGeometry {
  if (!Number.isInteger(inputSize) || inputSize <= 0 || inputSize % NANODET_SIZE_MULTIPLE !== 0) {
    throw new RangeError(
      `NanoDet input size must be a positive multiple of ${NANODET_SIZE_MULTIPLE}, got ${inputSize}`,
    );
  }
  if (frameWidth <= 0 || frameHeight <= 0) throw new RangeError(`empty frame ${frameWidth}x${frameHeight}`);
  const scale = inputSize / Math.max(frameWidth, frameHeight);
  const resizedWidth = Math.max(1, Math.round(frameWidth * scale));
  const resizedHeight = Math.max(1, Math.round(frameHeight * scale));
  const align = (n: number): number => Math.ceil(n / NANODET_SIZE_MULTIPLE) * NANODET_SIZE_MULTIPLE;
  return {
    inputWidth: align(resizedWidth),
    inputHeight: align(resizedHeight),
    resizedWidth,
    resizedHeight,
    scaleX: resizedWidth / frameWidth,
    scaleY: resizedHeight / frameHeight,
  };
}

/** Source sample positions for bilinear resizing with half-pixel centres (OpenCV's and TF's halfPixelCenters). */
function axisTable(src: number, dst: number): { lo: Int32Array; hi: Int32Array; frac: Float32Array } {
  const lo = new Int32Array(dst);
  const hi = new Int32Array(dst);
  const frac = new Float32Array(dst);
  const ratio = src / dst;
  for (let i = 0; i < dst; i += 1) {
    const pos = Math.min(src - 1, Math.max(0, (i + 0.5) * ratio - 0.5));
    const l = Math.floor(pos);
    lo[i] = l;
    hi[i] = Math.min(src - 1, l + 1);
    frac[i] = pos - l;
  }
  return { lo, hi, frac };
}

/** What one frame size needs: its geometry, its tensor buffer (padding filled once) and resize tables. */
interface FrameLayout {
  readonly geom: NanodetGeometry;
  readonly tensor: Float32Array;
  readonly xs: ReturnType<typeof axisTable>;
  readonly ys: ReturnType<typeof axisTable>;
}

/** Frame sizes kept at once: cameras of a few different widths share one detector worker. */
const MAX_LAYOUTS = 8;

/**
 * Keeps a tensor buffer and resize tables per frame size. One worker serves
 * every camera, and cameras differ in width: rebuilding the 3 MB buffer each
 * time the size changed cost about 28 ms per frame when two sizes alternated.
 */
export class NanodetPreprocessor {
  private readonly layouts = new Map<string, FrameLayout>();
  // out = pixel * gain - offset, per tensor channel (B, G, R).
  private readonly gain: number[];
  private readonly offset: number[];

  /** `normalisation` defaults to NanoDet's; another BGR-input network (RetinaFace) passes its own. */
  constructor(
    readonly inputSize: number,
    normalisation: BgrNormalisation = { mean: NANODET_MEAN_BGR, std: NANODET_STD_BGR },
  ) {
    this.gain = normalisation.std.map((s) => 1 / s);
    this.offset = normalisation.mean.map((m, i) => m / normalisation.std[i]);
    nanodetGeometry(1, 1, inputSize); // validates the size once, at construction
  }

  geometry(width: number, height: number): NanodetGeometry {
    return this.layout(width, height).geom;
  }

  private layout(width: number, height: number): FrameLayout {
    return boundedMemo(this.layouts, `${width}x${height}`, MAX_LAYOUTS, () => this.newLayout(width, height));
  }

  private newLayout(width: number, height: number): FrameLayout {
    const geom = nanodetGeometry(width, height, this.inputSize);
    const tensor = new Float32Array(3 * geom.inputWidth * geom.inputHeight);
    // Padding never changes for a given geometry: fill it once with normalised black.
    const plane = geom.inputWidth * geom.inputHeight;
    for (let ch = 0; ch < 3; ch += 1) tensor.fill(-(this.offset[ch] as number), ch * plane, (ch + 1) * plane);
    return { geom, tensor, xs: axisTable(width, geom.resizedWidth), ys: axisTable(height, geom.resizedHeight) };
  }

  /** Fills and returns the NCHW tensor ([1, 3, inputHeight, inputWidth]) for this frame. */
  run(rgb: Uint8Array, width: number, height: number): { tensor: Float32Array; geometry: NanodetGeometry } {
    const { geom: g, tensor: out, xs, ys } = this.layout(width, height);
    const plane = g.inputWidth * g.inputHeight;
    const { lo: xl, hi: xh, frac: xf } = xs;
    const { lo: yl, hi: yh, frac: yf } = ys;
    // Plain locals, not this.gain[c]: V8 keeps them in registers, and the loops below run once per
    // tensor pixel (measured: 2-4x faster than indexing the arrays inside them).
    const gB = this.gain[0] as number;
    const gG = this.gain[1] as number;
    const gR = this.gain[2] as number;
    const fB = this.offset[0] as number;
    const fG = this.offset[1] as number;
    const fR = this.offset[2] as number;
    const plane2 = 2 * plane;
    const rowBytes = width * 3;
    if (g.resizedWidth === width && g.resizedHeight === height) {
      // Input size = frame size (RetinaFace's default on 640 px frames): the bilinear resize is the identity.
      for (let y = 0; y < height; y += 1) {
        const o0 = y * g.inputWidth;
        let i = y * rowBytes;
        for (let x = 0; x < width; x += 1, i += 3) {
          const o = o0 + x;
          out[o] = (rgb[i + 2] as number) * gB - fB;
          out[plane + o] = (rgb[i + 1] as number) * gG - fG;
          out[plane2 + o] = (rgb[i] as number) * gR - fR;
        }
      }
      return { tensor: out, geometry: g };
    }
    for (let oy = 0; oy < g.resizedHeight; oy += 1) {
      const rowA = (yl[oy] as number) * rowBytes;
      const rowB = (yh[oy] as number) * rowBytes;
      const wy = yf[oy] as number;
      const o0 = oy * g.inputWidth;
      for (let ox = 0; ox < g.resizedWidth; ox += 1) {
        const a = rowA + (xl[ox] as number) * 3;
        const b = rowA + (xh[ox] as number) * 3;
        const c = rowB + (xl[ox] as number) * 3;
        const d = rowB + (xh[ox] as number) * 3;
        const wx = xf[ox] as number;
        const o = o0 + ox;
        // Frame bytes are R, G, B; tensor planes are B, G, R.
        out[o] = bilinear(rgb, a + 2, b + 2, c + 2, d + 2, wx, wy) * gB - fB;
        out[plane + o] = bilinear(rgb, a + 1, b + 1, c + 1, d + 1, wx, wy) * gG - fG;
        out[plane2 + o] = bilinear(rgb, a, b, c, d, wx, wy) * gR - fR;
      }
    }
    return { tensor: out, geometry: g };
  }
}

/** Bilinear blend of four bytes: tl, tr on the upper row, bl, br on the lower. */
function bilinear(px: Uint8Array, tl: number, tr: number, bl: number, br: number, wx: number, wy: number): number {
  const top = (px[tl] as number) + ((px[tr] as number) - (px[tl] as number)) * wx;
  const bottom = (px[bl] as number) + ((px[br] as number) - (px[bl] as number)) * wx;
  return top + (bottom - top) * wy;
}
