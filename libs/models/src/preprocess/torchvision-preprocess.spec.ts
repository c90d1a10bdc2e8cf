import { describe, expect, it } from 'vitest';
import {
  centerCropOffsets,
  IMAGENET_NORMALIZE,
  resizeBilinearPil,
  resizedSizeShorterSide,
  TorchvisionPreprocessor,
} from './torchvision-preprocess';

const rgb = (width: number, height: number, fill: (x: number, y: number, c: number) => number) => {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = fill(x, y, c);
  return { width, height, data };
};

const norm = (v: number, c: number) => (v / 255 - IMAGENET_NORMALIZE.mean[c]!) / IMAGENET_NORMALIZE.std[c]!;

describe('torchvision Resize/CenterCrop geometry', () => {
  it('scales the shorter side to 224 and truncates the longer one like int()', () => {
    expect(resizedSizeShorterSide(224, 224, 224)).toEqual([224, 224]);
    expect(resizedSizeShorterSide(178, 218, 224)).toEqual([224, 274]);
    expect(resizedSizeShorterSide(640, 427, 224)).toEqual([335, 224]);
    expect(resizedSizeShorterSide(200, 205, 224)).toEqual([224, 229]);
  });

  it("centres the crop with Python's round(), halves to even", () => {
    expect(centerCropOffsets(224, 224, 224)).toEqual([0, 0]);
    expect(centerCropOffsets(224, 225, 224)).toEqual([0, 0]); // round(0.5) = 0
    expect(centerCropOffsets(224, 229, 224)).toEqual([0, 2]); // round(2.5) = 2
    expect(centerCropOffsets(227, 224, 224)).toEqual([2, 0]); // round(1.5) = 2
    expect(centerCropOffsets(335, 224, 224)).toEqual([56, 0]); // round(55.5) = 56
  });
});

describe('resizeBilinearPil', () => {
  // A 5x3 RGB image and Pillow 13's Image.resize(..., BILINEAR) of it, recorded with the tools venv.
  const src = {
    width: 5,
    height: 3,
    data: Uint8Array.from([
      175, 196, 25, 246, 67, 211, 151, 103, 92, 185, 142, 23, 72, 89, 110, 42, 218, 136, 167, 230, 68, 176, 127, 135,
      172, 0, 75, 55, 250, 6, 19, 188, 44, 191, 69, 56, 152, 183, 181, 112, 251, 189, 192, 34, 56,
    ]),
  };
  const cases: [number, number, number[]][] = [
    [2, 2, [173, 147, 112, 141, 115, 72, 126, 160, 94, 144, 143, 112]],
    [
      5,
      2,
      [
        125, 204, 67, 216, 128, 157, 160, 112, 108, 180, 89, 43, 66, 149, 71, 28, 199, 79, 182, 129, 61, 161, 162, 164,
        135, 157, 146, 141, 115, 37,
      ],
    ],
    [
      3,
      3,
      [
        205, 141, 105, 180, 104, 103, 120, 112, 73, 96, 223, 107, 173, 122, 107, 105, 143, 36, 93, 137, 49, 152, 173,
        155, 158, 127, 113,
      ],
    ],
    [
      7,
      4,
      [
        175, 196, 25, 216, 122, 131, 219, 77, 177, 151, 103, 92, 175, 131, 43, 137, 119, 60, 72, 89, 110, 92, 210, 94,
        152, 186, 110, 188, 155, 121, 167, 118, 119, 174, 72, 74, 128, 112, 51, 61, 190, 45, 33, 207, 102, 115, 186, 80,
        174, 164, 89, 167, 148, 152, 154, 110, 128, 131, 126, 78, 106, 169, 25, 19, 188, 44, 117, 120, 51, 180, 102, 92,
        152, 183, 181, 123, 232, 187, 146, 158, 132, 192, 34, 56,
      ],
    ],
  ];
  it.each(cases)('matches Pillow to the uint8 at %ix%i (down, up, one axis)', (w, h, expected) => {
    expect(Array.from(resizeBilinearPil(src, w, h).data)).toEqual(expected);
  });

  it('keeps a flat image flat', () => {
    const flat = rgb(50, 31, (_x, _y, c) => 40 + c * 90);
    const out = resizeBilinearPil(flat, 224, 139).data;
    expect(out.filter((v, i) => v !== 40 + (i % 3) * 90).length).toBe(0);
  });
});

describe('TorchvisionPreprocessor', () => {
  it('writes a 224x224 crop as normalised NCHW without resizing', () => {
    const img = rgb(224, 224, (x, y, c) => (x + 2 * y + 50 * c) % 256);
    const p = new TorchvisionPreprocessor();
    const t = p.toTensor(img);
    expect(t.length).toBe(3 * 224 * 224);
    for (const [x, y] of [
      [0, 0],
      [223, 0],
      [17, 101],
      [223, 223],
    ] as const) {
      for (let c = 0; c < 3; c++) {
        const v = (x + 2 * y + 50 * c) % 256;
        expect(t[c * 224 * 224 + y * 224 + x]).toBeCloseTo(norm(v, c), 6);
      }
    }
  });

  it('fills only its slot of a preallocated batch buffer', () => {
    const p = new TorchvisionPreprocessor();
    const buf = p.allocate(3).fill(99);
    p.writeInto(
      rgb(224, 224, () => 0),
      buf,
      1,
    );
    expect(buf[0]).toBe(99);
    expect(buf[p.imageLength - 1]).toBe(99);
    expect(buf[p.imageLength]).toBeCloseTo(norm(0, 0), 6);
    expect(buf[2 * p.imageLength - 1]).toBeCloseTo(norm(0, 2), 6);
    expect(buf[2 * p.imageLength]).toBe(99);
  });

  it('resizes and centre-crops other sizes (a flat image stays flat)', () => {
    const p = new TorchvisionPreprocessor();
    for (const [w, h] of [
      [178, 218],
      [640, 427],
      [97, 131],
    ] as const) {
      const t = p.toTensor(rgb(w, h, (_x, _y, c) => [10, 128, 250][c]!));
      expect(t[0]).toBeCloseTo(norm(10, 0), 6);
      expect(t[224 * 224 + 5000]).toBeCloseTo(norm(128, 1), 6);
      expect(t[3 * 224 * 224 - 1]).toBeCloseTo(norm(250, 2), 6);
    }
  });

  it('crops the centre of a larger image', () => {
    // 224 wide, 230 tall: no resize, rows 3..226 kept; encode the row in the red channel.
    const t = new TorchvisionPreprocessor().toTensor(rgb(224, 230, (_x, y, c) => (c === 0 ? y : 0)));
    expect(t[0]).toBeCloseTo(norm(3, 0), 6);
    expect(t[223 * 224]).toBeCloseTo(norm(226, 0), 6);
  });

  it('refuses a buffer that does not match the stated size, and a slot past the end', () => {
    const p = new TorchvisionPreprocessor();
    expect(() => p.toTensor({ width: 224, height: 224, data: new Uint8Array(10) })).toThrow(/expected 150528/);
    expect(() =>
      p.writeInto(
        rgb(224, 224, () => 0),
        p.allocate(1),
        1,
      ),
    ).toThrow(/slot 1/);
  });
});
