/**
 * The small-faces set of the ingest bench (issue 12): faces of 12-32 px in
 * full-size 640x360 frames, built from real footage with a known truth.
 *
 * Frames of assets/sample.mp4 (faces ~55-120 px) are shrunk to a third and to
 * a quarter and tiled 3x3 and 4x4 into 640x360 mosaics, so their faces
 * become 14-40 and 10-30 px in a frame of the usual size. The truth is the
 * reference detector (face-api's SSD, the naive loop's own detector) run on
 * the original frames, 3-4x the resolution the faces have in the mosaic,
 * mapped into the mosaic. Faces outside 12-32 px after shrinking are neither
 * counted nor held against a detector that finds them.
 */
import sharp from 'sharp';
import type { Box } from '@crowdlens/contracts';
import { iou, solveAssignment, type FaceDetection, type Frame } from '@crowdlens/vision';

export const SMALL_FACE_MIN = 12;
export const SMALL_FACE_MAX = 32;
const MOSAIC_WIDTH = 640;
const MOSAIC_HEIGHT = 360;
const MATCH_IOU = 0.3;

export interface SmallFacesFrame {
  readonly frame: Frame;
  /** Faces 12-32 px: what recall is counted on. */
  readonly truth: Box[];
  /** Faces outside that range: a detection on them is neither a hit nor a false positive. */
  readonly ignored: Box[];
}

async function shrink(f: Frame, width: number, height: number): Promise<Buffer> {
  return sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
}

/**
 * Mosaics from `frames` (640x360 RGB) and `truthOf` (the reference detector's
 * faces on each original frame).
 */
export async function buildSmallFacesSet(
  frames: readonly Frame[],
  truthOf: (f: Frame, index: number) => Promise<Box[]>,
): Promise<SmallFacesFrame[]> {
  const truths: Box[][] = [];
  for (const [i, f] of frames.entries()) truths.push(await truthOf(f, i));
  const out: SmallFacesFrame[] = [];
  for (const grid of [3, 4]) {
    const tileW = Math.floor(MOSAIC_WIDTH / grid);
    const tileH = Math.floor(MOSAIC_HEIGHT / grid);
    const per = grid * grid;
    for (let start = 0; start + per <= frames.length; start += per) {
      const data = Buffer.alloc(MOSAIC_WIDTH * MOSAIC_HEIGHT * 3);
      const truth: Box[] = [];
      const ignored: Box[] = [];
      for (let t = 0; t < per; t++) {
        const src = frames[start + t]!;
        const tile = await shrink(src, tileW, tileH);
        const ox = (t % grid) * tileW;
        const oy = Math.floor(t / grid) * tileH;
        for (let y = 0; y < tileH; y++) {
          tile.copy(data, ((oy + y) * MOSAIC_WIDTH + ox) * 3, y * tileW * 3, (y + 1) * tileW * 3);
        }
        const sx = tileW / src.width;
        const sy = tileH / src.height;
        for (const b of truths[start + t]!) {
          const box = { x: ox + b.x * sx, y: oy + b.y * sy, width: b.width * sx, height: b.height * sy };
          const side = Math.min(box.width, box.height);
          (side >= SMALL_FACE_MIN && side <= SMALL_FACE_MAX ? truth : ignored).push(box);
        }
      }
      out.push({
        frame: { data, width: MOSAIC_WIDTH, height: MOSAIC_HEIGHT, ts: 0, monoTs: 0, seq: out.length },
        truth,
        ignored,
      });
    }
  }
  return out;
}

export interface SmallFacesScore {
  found: number;
  total: number;
  /** Detections on no known face (the truth is the reference's, so some may be real faces it missed). */
  unmatched: number;
}

/** Recall on the set: a truth face is found when a detection overlaps it at IoU ≥ 0.3 (one-to-one). */
export function scoreSmallFaces(
  set: readonly SmallFacesFrame[],
  detections: readonly (readonly FaceDetection[])[],
): SmallFacesScore {
  const score: SmallFacesScore = { found: 0, total: 0, unmatched: 0 };
  set.forEach((s, i) => {
    const got = (detections[i] ?? []).map((d) => d.box);
    const all = [...s.truth, ...s.ignored];
    const cost = all.map((t) => got.map((g) => (iou(t, g) >= MATCH_IOU ? 1 - iou(t, g) : Number.POSITIVE_INFINITY)));
    const pairs = solveAssignment(cost);
    score.total += s.truth.length;
    score.found += pairs.filter(([t]) => t < s.truth.length).length;
    const used = new Set(pairs.map(([, g]) => g));
    score.unmatched += got.filter((g, j) => !used.has(j) && !all.some((t) => iou(t, g) >= MATCH_IOU)).length;
  });
  return score;
}
