import { describe, expect, it } from 'vitest';
import {
  classAwareNms,
  COCO_PERSON,
  decodeNanodet,
  NANODET_CLASSES,
  NANODET_REG_BINS,
  type NanodetBox,
  type NanodetLevelOutput,
} from './nanodet-postprocess';

const SIZE = 64;

/** Empty outputs for a 64x64 input: grids 8x8, 4x4, 2x2. */
function emptyLevels(): NanodetLevelOutput[] {
  return [8, 16, 32].map((stride) => {
    const cells = (SIZE / stride) ** 2;
    return {
      stride,
      cls: new Float32Array(cells * NANODET_CLASSES),
      reg: new Float32Array(cells * 4 * NANODET_REG_BINS),
    };
  });
}

/** Puts a score and peaked side distributions (left, top, right, bottom bins) into one cell. */
function plant(
  level: NanodetLevelOutput,
  cell: number,
  classId: number,
  score: number,
  sides: readonly number[],
): void {
  level.cls[cell * NANODET_CLASSES + classId] = score;
  sides.forEach((bin, side) => {
    level.reg[(cell * 4 + side) * NANODET_REG_BINS + bin] = 30; // others 0: softmax ~ one-hot
  });
}

const opts = { inputWidth: SIZE, inputHeight: SIZE, minScore: 0.5, classIds: [COCO_PERSON] };

describe('decodeNanodet', () => {
  it('turns a cell’s distance distributions into a box around the cell centre, in input pixels', () => {
    const levels = emptyLevels();
    // Stride 16, 4x4 grid, row 1 col 2: centre (40, 24).
    plant(levels[1]!, 1 * 4 + 2, COCO_PERSON, 0.9, [2, 2, 3, 3]);
    const [box, ...rest] = decodeNanodet(levels, opts);
    expect(rest).toEqual([]);
    expect(box!.classId).toBe(COCO_PERSON);
    expect(box!.score).toBeCloseTo(0.9, 6);
    expect(box!.x0).toBeCloseTo(40 - 32, 3);
    expect(box!.y0).toBeCloseTo(24 - 32, 3);
    expect(box!.x1).toBeCloseTo(40 + 48, 3);
    expect(box!.y1).toBeCloseTo(24 + 48, 3);
  });

  it('uses the expectation of the distribution, not its peak', () => {
    const levels = emptyLevels();
    levels[0]!.cls[COCO_PERSON] = 0.8; // stride 8, cell 0, centre (4, 4); all reg logits 0: uniform over 0..10
    const [box] = decodeNanodet(levels, opts);
    expect(box!.x0).toBeCloseTo(4 - 5 * 8, 4);
    expect(box!.y1).toBeCloseTo(4 + 5 * 8, 4);
  });

  it('keeps only the asked classes at or above the threshold', () => {
    const levels = emptyLevels();
    plant(levels[0]!, 3, 2, 0.99, [1, 1, 1, 1]); // a car
    plant(levels[0]!, 4, COCO_PERSON, 0.49, [1, 1, 1, 1]);
    plant(levels[2]!, 1, COCO_PERSON, 0.5, [1, 1, 1, 1]);
    const boxes = decodeNanodet(levels, opts);
    expect(boxes.map((b) => b.score)).toEqual([0.5]);
    expect(decodeNanodet(levels, { ...opts, classIds: [0, 2] })).toHaveLength(2);
  });

  it('refuses outputs whose size does not fit the input', () => {
    expect(() => decodeNanodet(emptyLevels(), { ...opts, inputWidth: 96 })).toThrow(/expected 96 cells \(12x8\)/);
    expect(() => decodeNanodet(emptyLevels(), { ...opts, inputWidth: 60 })).toThrow(/not a multiple/);
  });
});

describe('classAwareNms', () => {
  const box = (x0: number, score: number, classId = COCO_PERSON): NanodetBox => ({
    x0,
    y0: 0,
    x1: x0 + 10,
    y1: 20,
    score,
    classId,
  });

  it('keeps the best of overlapping boxes of one class, best first', () => {
    const kept = classAwareNms([box(1, 0.6), box(0, 0.9), box(30, 0.7)], 0.5, 10);
    expect(kept.map((b) => b.score)).toEqual([0.9, 0.7]);
  });

  it('never lets one class suppress another', () => {
    expect(classAwareNms([box(0, 0.9), box(0, 0.8, 1)], 0.5, 10)).toHaveLength(2);
  });

  it('keeps boxes overlapping exactly at the threshold and stops at maxResults', () => {
    // Same height, 10 wide, offset 5: IoU = 50 / 150 = 1/3.
    expect(classAwareNms([box(0, 0.9), box(5, 0.8)], 1 / 3, 10)).toHaveLength(2);
    expect(classAwareNms([box(0, 0.9), box(5, 0.8)], 0.3, 10)).toHaveLength(1);
    expect(classAwareNms([box(0, 0.9), box(50, 0.8), box(100, 0.7)], 0.5, 2)).toHaveLength(2);
  });
});
