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
  // Per output column/row: the two source indices and the blend weight, reused while the frame size holds.
  private cachedFor = '';
  private x0 = new Int32Array(0);
  private x1 = new Int32Array(0);
  private fx = new Float32Array(0);
  private y0 = new Int32Array(0);
  private y1 = new Int32Array(0);
  private fy = new Float32Array(0);

  private prepare(width: number, height: number): void {
    const key = `${width}x${height}`;
    if (key === this.cachedFor) return;
    const side = Math.max(width, height);
    const scale = side / this.size;
    const axis = () => ({ a: new Int32Array(this.size), b: new Int32Array(this.size), f: new Float32Array(this.size) });
    const xs = axis();
    const ys = axis();
    for (let i = 0; i < this.size; i += 1) {
      const src = i * scale;
      const lo = Math.floor(src);
      const hi = Math.min(side - 1, Math.ceil(src));
      xs.a[i] = lo;
      xs.b[i] = hi;
      xs.f[i] = src - lo;
    }
    ys.a.set(xs.a);
    ys.b.set(xs.b);
    ys.f.set(xs.f);
    this.x0 = xs.a;
    this.x1 = xs.b;
    this.fx = xs.f;
    this.y0 = ys.a;
    this.y1 = ys.b;
    this.fy = ys.f;
    this.cachedFor = key;
  }

  /** Fills and returns `tensor` ([1, 3, 512, 512]). */
  run(rgb: Uint8Array, width: number, height: number): Float32Array {
    this.prepare(width, height);
    const n = this.size;
    const plane = n * n;
    const out = this.tensor;
    const { x0, x1, fx, y0, y1, fy } = this;
    // Pixels in the padding read as 0 (black), as padToSquare's zeros do.
    const px = (y: number, x: number, c: number): number =>
      y < height && x < width ? rgb[(y * width + x) * 3 + c] : 0;
    for (let oy = 0; oy < n; oy += 1) {
      const ya = y0[oy];
      const yb = y1[oy];
      const wy = fy[oy];
      for (let ox = 0; ox < n; ox += 1) {
        const xa = x0[ox];
        const xb = x1[ox];
        const wx = fx[ox];
        const o = oy * n + ox;
        for (let c = 0; c < 3; c += 1) {
          const tl = px(ya, xa, c);
          const tr = px(ya, xb, c);
          const bl = px(yb, xa, c);
          const br = px(yb, xb, c);
          const top = tl + (tr - tl) * wx;
          const bottom = bl + (br - bl) * wx;
          out[c * plane + o] = (top + (bottom - top) * wy) / 127.5 - 1;
        }
      }
    }
    return out;
  }
}
