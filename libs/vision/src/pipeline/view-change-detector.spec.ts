import { describe, expect, it } from 'vitest';
import type { Frame } from '../frame';
import { ViewChangeDetector } from './view-change-detector';

function scene(seed: number, personX = -1): Frame {
  const width = 160;
  const height = 120;
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inPerson = personX >= 0 && x >= personX && x < personX + 12 && y >= 40 && y < 80;
      const v = inPerson ? 20 : (Math.floor(x / 20) * 37 + Math.floor(y / 15) * 53 + seed * 101) % 256;
      data[i] = v;
      data[i + 1] = v;
      data[i + 2] = v;
    }
  return { data, width, height, ts: 0, monoTs: 0, seq: 0 };
}

describe('ViewChangeDetector', () => {
  it('does not call people walking through a still view a cut', () => {
    const d = new ViewChangeDetector();
    for (let x = 0; x < 140; x += 10) expect(d.isCut(scene(1, x))).toBe(false);
  });

  it('calls a jump to another picture a cut, once', () => {
    const d = new ViewChangeDetector();
    expect(d.isCut(scene(1))).toBe(false);
    expect(d.isCut(scene(2))).toBe(true);
    expect(d.isCut(scene(2, 30))).toBe(false);
  });
});
