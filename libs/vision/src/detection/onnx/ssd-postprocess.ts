import { SSD_INPUT_SIZE } from './ssd-mobilenetv1-graph';

export interface SsdRawDetection {
  /** Frame pixels, before clamping. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly score: number;
}

/** face-api's SSD uses a fixed NMS IoU of 0.5. */
const NMS_IOU = 0.5;

function iou(b: Float32Array, i: number, j: number): number {
  const yminI = Math.min(b[i * 4], b[i * 4 + 2]);
  const xminI = Math.min(b[i * 4 + 1], b[i * 4 + 3]);
  const ymaxI = Math.max(b[i * 4], b[i * 4 + 2]);
  const xmaxI = Math.max(b[i * 4 + 1], b[i * 4 + 3]);
  const yminJ = Math.min(b[j * 4], b[j * 4 + 2]);
  const xminJ = Math.min(b[j * 4 + 1], b[j * 4 + 3]);
  const ymaxJ = Math.max(b[j * 4], b[j * 4 + 2]);
  const xmaxJ = Math.max(b[j * 4 + 1], b[j * 4 + 3]);
  const areaI = (ymaxI - yminI) * (xmaxI - xminI);
  const areaJ = (ymaxJ - yminJ) * (xmaxJ - xminJ);
  if (areaI <= 0 || areaJ <= 0) return 0;
  const ih = Math.max(Math.min(ymaxI, ymaxJ) - Math.max(yminI, yminJ), 0);
  const iw = Math.max(Math.min(xmaxI, xmaxJ) - Math.max(xminI, xminJ), 0);
  const inter = ih * iw;
  return inter / (areaI + areaJ - inter);
}

/**
 * face-api's SSD output stage in plain TypeScript: anchor decoding
 * (outputLayer.ts), sigmoid face score, greedy NMS (nonMaxSuppression.ts) and
 * the mapping from the padded 512 square back to frame pixels
 * (SsdMobilenetv1.locateFaces). face-api does the NMS with a tensor read per
 * IoU; here it is arithmetic on one array.
 */
export class SsdPostprocessor {
  private readonly decoded: Float32Array;
  private readonly scores: Float32Array;

  constructor(private readonly anchors: Float32Array) {
    if (anchors.length % 4 !== 0) throw new RangeError('SSD anchors must be [n, 4]');
    this.decoded = new Float32Array(anchors.length);
    this.scores = new Float32Array(anchors.length / 4);
  }

  get anchorCount(): number {
    return this.scores.length;
  }

  run(
    encodings: Float32Array,
    logits: Float32Array,
    frame: { readonly width: number; readonly height: number },
    minScore: number,
    maxResults = 100,
  ): SsdRawDetection[] {
    const n = this.scores.length;
    if (encodings.length !== n * 4 || logits.length !== n * 3) {
      throw new RangeError(`SSD output sizes ${encodings.length}/${logits.length} do not match ${n} anchors`);
    }
    const a = this.anchors;
    const d = this.decoded;
    const candidates: number[] = [];
    for (let i = 0; i < n; i += 1) {
      const score = 1 / (1 + Math.exp(-logits[i * 3 + 1]));
      this.scores[i] = score;
      if (score <= minScore) continue;
      candidates.push(i);
      const h = a[i * 4 + 2] - a[i * 4];
      const w = a[i * 4 + 3] - a[i * 4 + 1];
      const cy = a[i * 4] + h / 2;
      const cx = a[i * 4 + 1] + w / 2;
      const halfH = (Math.exp(encodings[i * 4 + 2] / 5) * h) / 2;
      const y = (encodings[i * 4] / 10) * h + cy;
      const halfW = (Math.exp(encodings[i * 4 + 3] / 5) * w) / 2;
      const x = (encodings[i * 4 + 1] / 10) * w + cx;
      d[i * 4] = y - halfH;
      d[i * 4 + 1] = x - halfW;
      d[i * 4 + 2] = y + halfH;
      d[i * 4 + 3] = x + halfW;
    }
    candidates.sort((p, q) => this.scores[q] - this.scores[p]);
    const selected: number[] = [];
    for (const c of candidates) {
      if (selected.length >= Math.min(maxResults, n)) break;
      let keep = true;
      for (let j = selected.length - 1; j >= 0; j -= 1) {
        if (iou(d, c, selected[j]) > NMS_IOU) {
          keep = false;
          break;
        }
      }
      if (keep) selected.push(c);
    }

    const side = Math.max(frame.width, frame.height);
    const padX = SSD_INPUT_SIZE / Math.round((frame.width * SSD_INPUT_SIZE) / side);
    const padY = SSD_INPUT_SIZE / Math.round((frame.height * SSD_INPUT_SIZE) / side);
    return selected.map((i) => {
      const top = Math.max(0, d[i * 4]) * padY;
      const bottom = Math.min(1, d[i * 4 + 2]) * padY;
      const left = Math.max(0, d[i * 4 + 1]) * padX;
      const right = Math.min(1, d[i * 4 + 3]) * padX;
      return {
        x: left * frame.width,
        y: top * frame.height,
        width: (right - left) * frame.width,
        height: (bottom - top) * frame.height,
        score: this.scores[i],
      };
    });
  }
}
