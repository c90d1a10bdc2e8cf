import { describe, expect, it } from 'vitest';
import { NANODET_MEAN_BGR, NANODET_STD_BGR, nanodetGeometry, NanodetPreprocessor } from './nanodet-preprocess';

const norm = (value: number, bgrChannel: number): number =>
  (value - NANODET_MEAN_BGR[bgrChannel]) / NANODET_STD_BGR[bgrChannel];

describe('nanodetGeometry', () => {
  it('fits the longer side to the input size and pads only up to a multiple of 32', () => {
    expect(nanodetGeometry(640, 480, 416)).toEqual({
      inputWidth: 416,
      inputHeight: 320,
      resizedWidth: 416,
      resizedHeight: 312,
      scaleX: 0.65,
      scaleY: 0.65,
    });
    expect(nanodetGeometry(480, 640, 416)).toMatchObject({ inputWidth: 320, inputHeight: 416 });
    expect(nanodetGeometry(1920, 1080, 640)).toMatchObject({ inputWidth: 640, inputHeight: 384, resizedHeight: 360 });
  });

  it('refuses input sizes the network cannot take', () => {
    expect(() => nanodetGeometry(640, 480, 400)).toThrow(RangeError);
    expect(() => new NanodetPreprocessor(0)).toThrow(RangeError);
  });
});

describe('NanodetPreprocessor', () => {
  it('writes BGR planes normalised with NanoDet’s mean and std, and pads with normalised black', () => {
    const width = 64;
    const height = 48;
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < rgb.length; i += 3) rgb.set([10, 20, 30], i);
    const { tensor, geometry } = new NanodetPreprocessor(64).run(rgb, width, height);
    expect(geometry).toMatchObject({ inputWidth: 64, inputHeight: 64, resizedHeight: 48 });
    const plane = 64 * 64;
    const at = (ch: number, x: number, y: number): number => tensor[ch * plane + y * 64 + x] as number;
    // Channel 0 is blue (the frame's third byte), channel 2 red.
    expect(at(0, 5, 5)).toBeCloseTo(norm(30, 0), 5);
    expect(at(1, 5, 5)).toBeCloseTo(norm(20, 1), 5);
    expect(at(2, 5, 5)).toBeCloseTo(norm(10, 2), 5);
    // Rows 48..63 are padding.
    expect(at(0, 5, 50)).toBeCloseTo(norm(0, 0), 5);
    expect(at(2, 63, 63)).toBeCloseTo(norm(0, 2), 5);
  });

  it('copies pixels exactly when no scaling is needed', () => {
    const width = 32;
    const height = 32;
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37) % 256);
    const { tensor } = new NanodetPreprocessor(32).run(rgb, width, height);
    for (const [x, y] of [
      [0, 0],
      [31, 0],
      [7, 19],
      [31, 31],
    ] as const) {
      const p = (y * width + x) * 3;
      expect(tensor[2 * 1024 + y * 32 + x]).toBeCloseTo(norm(rgb[p] as number, 2), 4);
      expect(tensor[y * 32 + x]).toBeCloseTo(norm(rgb[p + 2] as number, 0), 4);
    }
  });

  it('blends neighbours bilinearly with half-pixel centres', () => {
    // 4x1 frame black, black, white, white, scaled up to 32 wide.
    const rgb = new Uint8Array(4 * 3);
    rgb.fill(255, 6);
    const { tensor } = new NanodetPreprocessor(32).run(rgb, 4, 1);
    const red = (x: number): number => (tensor[2 * 32 * 32 + x] as number) * NANODET_STD_BGR[2] + NANODET_MEAN_BGR[2];
    expect(red(0)).toBeCloseTo(0, 3); // before the first pixel centre: clamped to it
    // Output x samples source (x + 0.5) * 4 / 32 - 0.5; x = 15 lands at 1.4375, between pixels 1 and 2.
    expect(red(15)).toBeCloseTo(255 * 0.4375, 3);
    expect(red(31)).toBeCloseTo(255, 3);
  });

  it('reuses its tensor for frames of one size and rebuilds it for another', () => {
    const pre = new NanodetPreprocessor(64);
    const a = pre.run(new Uint8Array(64 * 48 * 3), 64, 48).tensor;
    const b = pre.run(new Uint8Array(64 * 48 * 3), 64, 48).tensor;
    const c = pre.run(new Uint8Array(48 * 64 * 3), 48, 64);
    expect(b).toBe(a);
    expect(c.tensor).not.toBe(a);
    expect(c.geometry).toMatchObject({ inputWidth: 64, inputHeight: 64, resizedWidth: 48 });
  });

  it("keeps each frame size's tensor while cameras of two sizes alternate, with the same values as a fresh one", () => {
    const frame = (w: number, h: number, seed: number): Uint8Array =>
      Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 31 + seed) & 255);
    const pre = new NanodetPreprocessor(64);
    const small = pre.run(frame(64, 48, 1), 64, 48).tensor;
    const tall = pre.run(frame(40, 80, 2), 40, 80).tensor;
    // The first size's buffer is still its own: not rebuilt on the way back.
    expect(pre.run(frame(64, 48, 3), 64, 48).tensor).toBe(small);
    expect(pre.run(frame(40, 80, 4), 40, 80).tensor).toBe(tall);
    expect([...small]).toEqual([...new NanodetPreprocessor(64).run(frame(64, 48, 3), 64, 48).tensor]);
    expect([...tall]).toEqual([...new NanodetPreprocessor(64).run(frame(40, 80, 4), 40, 80).tensor]);
  });
});
