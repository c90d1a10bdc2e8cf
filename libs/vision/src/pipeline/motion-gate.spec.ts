import { describe, expect, it } from 'vitest';
import type { Frame } from '../frame';
import { greyThumbnail, MotionGate } from './motion-gate';

const W = 320;
const H = 180;

/** A textured background with an optional bright 40x40 "face" at (fx, fy), plus per-pixel noise. */
function scene(ts: number, face?: { x: number; y: number }, noise = 0, seed = 1, light = 0): Frame {
  const data = Buffer.alloc(W * H * 3);
  let s = seed;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const n = noise ? ((s >> 8) % (2 * noise + 1)) - noise : 0;
      let v = 60 + ((x >> 3) % 5) * 20 + ((y >> 4) % 3) * 10;
      if (face && x >= face.x && x < face.x + 40 && y >= face.y && y < face.y + 40) v = 220;
      v = Math.max(0, Math.min(255, v + n + light));
      data.fill(v, (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
  }
  return { data, width: W, height: H, ts, monoTs: ts, seq: ts };
}

/** The thumbnail's definition, one pixel at a time: each sampled pixel goes to the cell its position falls in. */
function referenceThumbnail(frame: Frame, thumbnailWidth: number): { width: number; height: number; data: number[] } {
  const tw = Math.max(1, Math.min(thumbnailWidth, frame.width));
  const cell = frame.width / tw;
  const th = Math.max(1, Math.round(frame.height / cell));
  const cellH = frame.height / th;
  const sums = new Array<number>(tw * th).fill(0);
  const counts = new Array<number>(tw * th).fill(0);
  for (let y = 0; y < frame.height; y += 2)
    for (let x = 0; x < frame.width; x += 2) {
      const i = (y * frame.width + x) * 3;
      const grey =
        ((frame.data[i] as number) * 77 + (frame.data[i + 1] as number) * 150 + (frame.data[i + 2] as number) * 29) >>
        8;
      const t = Math.min(th - 1, Math.floor(y / cellH)) * tw + Math.min(tw - 1, Math.floor(x / cell));
      sums[t] = (sums[t] as number) + grey;
      counts[t] = (counts[t] as number) + 1;
    }
  return { width: tw, height: th, data: sums.map((v, i) => (counts[i] ? Math.round(v / (counts[i] as number)) : 0)) };
}

function randomFrame(width: number, height: number, seed: number): Frame {
  const data = Buffer.alloc(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    data[i] = (s >> 16) & 255;
  }
  return { data, width, height, ts: 0, monoTs: 0, seq: 0 };
}

describe('MotionGate', () => {
  it('builds the same thumbnail as the pixel-by-pixel definition, odd sizes and edge cells included', () => {
    for (const [w, h] of [
      [640, 360],
      [641, 361],
      [1920, 1080],
      [100, 77],
      [3, 5],
      [33, 1],
    ] as const) {
      const frame = randomFrame(w, h, w * 7 + h);
      for (const tw of [64, 32, 7, 1, 5000]) {
        const got = greyThumbnail(frame, tw);
        const want = referenceThumbnail(frame, tw);
        expect({ w, h, tw, width: got.width, height: got.height, data: [...got.data] }).toEqual({ w, h, tw, ...want });
      }
    }
  });

  it('averages cells into a thumbnail that keeps the aspect', () => {
    const t = greyThumbnail(scene(0), 64);
    expect(t.width).toBe(64);
    expect(t.height).toBe(36);
  });

  it('analyses the first frame, skips unchanged (noisy) ones, and analyses motion', () => {
    const gate = new MotionGate({ maxSkipMs: 60_000 });
    expect(gate.shouldAnalyse(scene(0, { x: 100, y: 60 }, 6, 1))).toBe(true);
    // Same picture, fresh sensor noise (+-6 grey levels per pixel): nothing moved.
    expect(gate.shouldAnalyse(scene(200, { x: 100, y: 60 }, 6, 2))).toBe(false);
    expect(gate.shouldAnalyse(scene(400, { x: 100, y: 60 }, 6, 3))).toBe(false);
    // The face moves by a quarter of its size.
    expect(gate.shouldAnalyse(scene(600, { x: 110, y: 60 }, 6, 4))).toBe(true);
    expect(gate.lastChangedFraction).toBeGreaterThan(0.002);
  });

  it('compares with the last analysed frame, so slow drift adds up', () => {
    const gate = new MotionGate({ maxSkipMs: 60_000 });
    gate.shouldAnalyse(scene(0, { x: 100, y: 60 }));
    // The light brightens by 3 grey levels per frame: below the threshold frame to frame, not after four.
    const results = [1, 2, 3, 4, 5, 6].map((i) => gate.shouldAnalyse(scene(i * 200, { x: 100, y: 60 }, 0, 1, 3 * i)));
    expect(results).toEqual([false, false, false, true, false, false]);
  });

  it('analyses one frame per maxSkipMs in a still scene, and everything when disabled', () => {
    const gate = new MotionGate({ maxSkipMs: 1000 });
    const decisions = [0, 200, 400, 600, 800, 1000, 1200].map((ts) => gate.shouldAnalyse(scene(ts)));
    expect(decisions).toEqual([true, false, false, false, false, true, false]);
    const off = new MotionGate({ enabled: false });
    expect([0, 200, 400].map((ts) => off.shouldAnalyse(scene(ts)))).toEqual([true, true, true]);
    expect(() => new MotionGate({ minChangedFraction: 2 })).toThrow(RangeError);
  });
});
