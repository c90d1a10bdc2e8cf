import { SSD_INPUT_SIZE } from './ssd-mobilenetv1-graph';

/**
 * face-api's SSD input, computed straight from the RGB frame into an NCHW
 * float buffer: pad to a square with black at the right or bottom
 * (padToSquare, isCenterImage false), resize bilinearly to 512x512 the way
 * TF.js resizeBilinear does (alignCorners false, halfPixelCenters false),
 * scale to [-1, 1]. One pass, no intermediate images.
 */
export class SsdPreprocessor {
  private readonly size = SSD_INPUT_SIZE;
  readonly tensor = new Float32Array(3 * SSD_INPUT_SIZE * SSD_INPUT_SIZE);
  // Per output index: the two source indices and the blend weight. The padded
  // input is square, so rows and columns share one table; rebuilt when the frame size changes.
  private cachedFor = '';
  private lo = new Int32Array(0);
  private hi = new Int32Array(0);
  private frac = new Float32Array(0);

  private prepare(width: number, height: number): void {
    const key = `${width}x${height}`;
    if (key === this.cachedFor) return;
    const side = Math.max(width, height);
    const scale = side / this.size;
    this.lo = new Int32Array(this.size);
    this.hi = new Int32Array(this.size);
    this.frac = new Float32Array(this.size);
    for (let i = 0; i < this.size; i += 1) {
      const src = i * scale;
      const lo = Math.floor(src);
      this.lo[i] = lo;
      this.hi[i] = Math.min(side - 1, Math.ceil(src));
      this.frac[i] = src - lo;
    }
    this.cachedFor = key;
  }

  /** Fills and returns `tensor` ([1, 3, 512, 512]). */
  run(rgb: Uint8Array, width: number, height: number): Float32Array {
    this.prepare(width, height);
    const n = this.size;
    const plane = n * n;
    const out = this.tensor;
    const { lo, hi, frac } = this;
    const rowBytes = width * 3;
    // Pixels in the padding read as 0 (black), as padToSquare's zeros do; 0 maps to -1.
    for (let oy = 0; oy < n; oy += 1) {
      const ya = lo[oy];
      const o0 = oy * n;
      if (ya >= height) {
        // The whole output row lies in the bottom padding (a landscape frame's lower part).
        out.fill(-1, o0, o0 + n);
        out.fill(-1, plane + o0, plane + o0 + n);
        out.fill(-1, 2 * plane + o0, 2 * plane + o0 + n);
        continue;
      }
      const yb = hi[oy];
      const wy = frac[oy];
      const rowA = ya * rowBytes;
      const rowB = yb < height ? yb * rowBytes : -1;
      for (let ox = 0; ox < n; ox += 1) {
        const xa = lo[ox];
        const o = o0 + ox;
        if (xa >= width) {
          out[o] = -1;
          out[plane + o] = -1;
          out[2 * plane + o] = -1;
          continue;
        }
        const xb = hi[ox];
        const wx = frac[ox];
        const hasRight = xb < width;
        const a = rowA + xa * 3;
        const b = rowA + xb * 3;
        const c = rowB + xa * 3;
        const d = rowB + xb * 3;
        for (let ch = 0; ch < 3; ch += 1) {
          const tl = rgb[a + ch];
          const tr = hasRight ? rgb[b + ch] : 0;
          const bl = rowB >= 0 ? rgb[c + ch] : 0;
          const br = rowB >= 0 && hasRight ? rgb[d + ch] : 0;
          const top = tl + (tr - tl) * wx;
          const bottom = bl + (br - bl) * wx;
          out[ch * plane + o] = (top + (bottom - top) * wy) / 127.5 - 1;
        }
      }
    }
    return out;
  }
}
