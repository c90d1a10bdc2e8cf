import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../frame';
import { FaceCropper, greyPatch, laplacianVariance, mirrorSymmetry, type CropRegion } from './face-cropper';

function frameOf(width: number, height: number, pixel: (x: number, y: number) => number): Frame {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = pixel(x, y);
      data.fill(v, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return { data, width, height, ts: 0, monoTs: 0, seq: 0 };
}

const checker = (x: number, y: number): number => (((x >> 2) + (y >> 2)) % 2 ? 230 : 20);

/** greyPatch's definition: each cell is the mean of 2x2 samples placed at the quarter points of the cell. */
function referencePatch(frame: Frame, region: CropRegion, side: number): number[] {
  const out: number[] = [];
  const cell = region.width / side;
  const cellH = region.height / side;
  for (let cy = 0; cy < side; cy++)
    for (let cx = 0; cx < side; cx++) {
      let sum = 0;
      for (const dy of [0, 1])
        for (const dx of [0, 1]) {
          const y = Math.min(frame.height - 1, Math.floor(region.top + cy * cellH + (dy + 0.5) * (cellH / 2)));
          const x = Math.min(frame.width - 1, Math.floor(region.left + cx * cell + (dx + 0.5) * (cell / 2)));
          const i = (y * frame.width + x) * 3;
          sum +=
            ((frame.data[i] as number) * 77 +
              (frame.data[i + 1] as number) * 150 +
              (frame.data[i + 2] as number) * 29) >>
            8;
        }
      out.push(Math.round(sum / 4));
    }
  return out;
}

describe('greyPatch', () => {
  it('matches its sample-by-sample definition for small, large and edge regions', () => {
    const frame = frameOf(641, 361, (x, y) => (x * 31 + y * 17 + ((x * y) % 23)) & 255);
    const cropper = new FaceCropper();
    for (const box of [
      { x: 0, y: 0, width: 12, height: 12 },
      { x: 300, y: 150, width: 97, height: 120 },
      { x: 620, y: 340, width: 40, height: 40 },
      { x: 10, y: 5, width: 600, height: 600 },
    ]) {
      const region = cropper.region(box, frame);
      for (const side of [64, 17])
        expect({ box, side, patch: [...greyPatch(frame, region, side)] }).toEqual({
          box,
          side,
          patch: referencePatch(frame, region, side),
        });
    }
  });
});

describe('FaceCropper', () => {
  const cropper = new FaceCropper();

  it('expands the box into a square and keeps it inside the frame', () => {
    expect(cropper.region({ x: 100, y: 100, width: 80, height: 100 }, { width: 640, height: 360 })).toEqual({
      left: 78,
      top: 88,
      width: 125,
      height: 125,
    });
    // At the corner the square is shifted in, not squashed.
    expect(cropper.region({ x: 0, y: 0, width: 80, height: 80 }, { width: 640, height: 360 })).toEqual({
      left: 0,
      top: 0,
      width: 100,
      height: 100,
    });
    expect(cropper.region({ x: 580, y: 300, width: 60, height: 60 }, { width: 640, height: 360 })).toMatchObject({
      left: 565,
      top: 285,
    });
    // Larger than the frame: limited to its short side.
    expect(cropper.region({ x: 0, y: 0, width: 400, height: 350 }, { width: 640, height: 360 })).toMatchObject({
      width: 360,
      top: 0,
    });
  });

  it('encodes a 224x224 JPEG', async () => {
    const frame = frameOf(320, 180, checker);
    const jpeg = await cropper.jpeg(frame, { x: 10, y: 10, width: 50, height: 60 });
    expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
    const meta = await sharp(jpeg).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 224, height: 224, channels: 3 });
  });

  it('never scores a crop above its bound, and reaches it for a sharp, symmetric face', async () => {
    const cropper = new FaceCropper();
    const noise = frameOf(320, 240, (x, y) => (x * 73 + y * 151 + ((x * y) % 17) * 13) & 255);
    const flat = frameOf(320, 240, () => 128);
    for (const frame of [noise, flat])
      for (const side of [12, 40, 112, 200])
        for (const score of [0.3, 0.9]) {
          const box = { x: 20, y: 10, width: side, height: side };
          const bound = cropper.qualityBound(box, score);
          expect(await cropper.quality(frame, box, score)).toBeLessThanOrEqual(bound);
          expect(bound).toBeLessThanOrEqual(1);
        }
    // A sharp checkerboard comes within the frontality part (0.15) of the bound: the bound is not vacuous.
    const box = { x: 40, y: 40, width: 120, height: 120 };
    const q = await cropper.quality(frameOf(320, 240, checker), box, 0.9);
    expect(cropper.qualityBound(box, 0.9) - q).toBeLessThan(0.2);
  });

  it('scores sharp, large, confident faces above blurry, small or doubtful ones', async () => {
    const sharpFrame = frameOf(320, 240, checker);
    const flatFrame = frameOf(320, 240, (x) => 100 + (x % 3)); // almost no edges
    const big = { x: 40, y: 40, width: 120, height: 120 };
    const small = { x: 40, y: 40, width: 30, height: 30 };
    const qSharp = await cropper.quality(sharpFrame, big, 0.9);
    const qFlat = await cropper.quality(flatFrame, big, 0.9);
    const qSmall = await cropper.quality(sharpFrame, small, 0.9);
    const qDoubt = await cropper.quality(sharpFrame, big, 0.3);
    for (const q of [qSharp, qFlat, qSmall, qDoubt]) {
      expect(q).toBeGreaterThanOrEqual(0);
      expect(q).toBeLessThanOrEqual(1);
    }
    expect(qSharp).toBeGreaterThan(qFlat + 0.2);
    expect(qSharp).toBeGreaterThan(qSmall + 0.2);
    expect(qSharp).toBeGreaterThan(qDoubt);
  });

  it('prefers a mirror-symmetric (frontal) face to a turned one, all else equal', async () => {
    const side = 64;
    // A "frontal" face: eyes and mouth placed symmetrically about the centre line.
    const frontal = (x: number, y: number) => {
      const dx = Math.abs(x - 31.5);
      const eye = y > 20 && y < 28 && dx > 8 && dx < 18;
      const mouth = y > 42 && y < 46 && dx < 10;
      return eye || mouth ? 30 : 160 + ((x * 7 + y * 3) % 5);
    };
    // The same features shifted to one side, as in a turned head.
    const turned = (x: number, y: number) => frontal(Math.min(side - 1, x + 12), y);
    const grey = (f: (x: number, y: number) => number) =>
      Uint8Array.from({ length: side * side }, (_, i) => f(i % side, Math.floor(i / side)));
    expect(mirrorSymmetry(grey(frontal), side, side)).toBeGreaterThan(0.9);
    expect(mirrorSymmetry(grey(turned), side, side)).toBeLessThan(0.5);
    expect(mirrorSymmetry(new Uint8Array(side * side).fill(90), side, side)).toBe(0);

    const box = { x: 0, y: 0, width: 200, height: 200 };
    const scale = (f: (x: number, y: number) => number) => (x: number, y: number) =>
      f(Math.floor((x * side) / 250), Math.floor((y * side) / 250));
    const qFrontal = await cropper.quality(frameOf(250, 250, scale(frontal)), box, 0.9);
    const qTurned = await cropper.quality(frameOf(250, 250, scale(turned)), box, 0.9);
    expect(qFrontal).toBeGreaterThan(qTurned + 0.05);
  });

  it('laplacian variance is zero on a flat image', () => {
    expect(laplacianVariance(new Uint8Array(16 * 16).fill(7), 16, 16)).toBe(0);
    expect(
      laplacianVariance(
        Uint8Array.from({ length: 256 }, (_, i) => (i % 2) * 255),
        16,
        16,
      ),
    ).toBeGreaterThan(1000);
  });
});
