import * as ort from 'onnxruntime-node';
import type { OnnxExecutionProvider } from '@crowdlens/models/onnx/provider-session';
import { assertRgbFrame, type Frame } from '../../frame';
import { clampDetection } from '../clamp-detection';
import type { PersonDetection, PersonDetector } from '../person-detector.port';
import { defaultNanodetModelPath } from './nanodet-model-file';
import { openVerifiedModelSession } from '../verified-model-session';
import {
  classAwareNms,
  COCO_PERSON,
  decodeNanodet,
  NANODET_STRIDES,
  type NanodetLevelOutput,
} from './nanodet-postprocess';
import { NanodetPreprocessor } from './nanodet-preprocess';

export interface OnnxNanodetPersonDetectorOptions {
  /** The ONNX file; a manifest.json beside it must carry its sha256. Defaults to the committed NanoDet-g. */
  readonly modelPath?: string;
  /** Longer side of the network input, a multiple of 32 (see bench/person-detector/RESULTS.md). */
  readonly inputSize?: number;
  /** Person score threshold, 0..1. */
  readonly minScore?: number;
  /** Boxes of the same class overlapping more than this are one detection. */
  readonly nmsIou?: number;
  readonly maxDetections?: number;
  readonly executionProvider?: OnnxExecutionProvider;
  /** onnxruntime intra-op threads; 1 because each detector already has its own worker thread. */
  readonly threads?: number;
}

/** Defaults measured on vtest.avi at 640x480 (bench/person-detector/RESULTS.md). */
export const NANODET_PERSON_DEFAULTS = {
  inputSize: 416,
  minScore: 0.5,
  nmsIou: 0.6,
  maxDetections: 100,
  executionProvider: 'cpu',
  threads: 1,
} as const satisfies Required<Omit<OnnxNanodetPersonDetectorOptions, 'modelPath'>>;

/**
 * NanoDet-g (COCO) on onnxruntime, people only: the footfall detector for
 * elevated cameras where faces are a few pixels wide. The model file is
 * checked against its manifest's sha256 before it is opened.
 */
export class OnnxNanodetPersonDetector implements PersonDetector {
  private provider = 'unloaded';
  private fallback: string | null = null;
  private session: ort.InferenceSession | null = null;
  private inputName = '';
  private readonly pre: NanodetPreprocessor;
  private readonly settings: Required<Omit<OnnxNanodetPersonDetectorOptions, 'modelPath'>> & { modelPath: string };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: OnnxNanodetPersonDetectorOptions = {}) {
    this.settings = {
      ...NANODET_PERSON_DEFAULTS,
      ...stripUndefined(options),
      modelPath: options.modelPath ?? defaultNanodetModelPath(),
    };
    const { minScore, nmsIou, maxDetections, threads } = this.settings;
    if (!(minScore >= 0 && minScore <= 1)) throw new RangeError(`minScore must be in 0..1, got ${minScore}`);
    if (!(nmsIou > 0 && nmsIou <= 1)) throw new RangeError(`nmsIou must be in (0, 1], got ${nmsIou}`);
    if (!(Number.isInteger(maxDetections) && maxDetections > 0)) throw new RangeError('maxDetections must be > 0');
    if (!(Number.isInteger(threads) && threads > 0)) throw new RangeError('threads must be a positive integer');
    this.pre = new NanodetPreprocessor(this.settings.inputSize); // validates inputSize
  }

  get backend(): string {
    return this.provider === 'unloaded' ? 'unloaded' : `onnxruntime-${this.provider}`;
  }

  /** Why the configured GPU provider is not in use (the detector then runs on CPU); null otherwise. */
  get fallbackReason(): string | null {
    return this.fallback;
  }

  get inputSize(): number {
    return this.settings.inputSize;
  }

  async load(): Promise<void> {
    if (this.session) return;
    const opened = await openVerifiedModelSession(
      this.settings.modelPath,
      this.settings.executionProvider,
      this.settings.threads,
      NANODET_STRIDES.flatMap((s) => [`cls_stride${s}`, `reg_stride${s}`]),
      'NanoDet',
    );
    this.session = opened.session;
    this.inputName = opened.inputName;
    this.provider = opened.provider;
    this.fallback = opened.fallbackReason;
  }

  /**
   * Detections run one at a time: the input tensor is one reused buffer that
   * onnxruntime reads on its own thread while `run` is pending, and several
   * cameras may share this detector.
   */
  detect(frame: Frame): Promise<PersonDetection[]> {
    const result = this.queue.then(() => this.detectNow(frame));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async detectNow(frame: Frame): Promise<PersonDetection[]> {
    const { session } = this;
    if (!session) throw new Error('OnnxNanodetPersonDetector.detect called before load()');
    assertRgbFrame(frame);
    const pixels = new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.length);
    const { tensor, geometry: g } = this.pre.run(pixels, frame.width, frame.height);
    const input = new ort.Tensor('float32', tensor, [1, 3, g.inputHeight, g.inputWidth]);
    const out = await session.run({ [this.inputName]: input });
    try {
      const levels: NanodetLevelOutput[] = NANODET_STRIDES.map((stride) => ({
        stride,
        cls: out[`cls_stride${stride}`]?.data as Float32Array,
        reg: out[`reg_stride${stride}`]?.data as Float32Array,
      }));
      const raw = decodeNanodet(levels, {
        inputWidth: g.inputWidth,
        inputHeight: g.inputHeight,
        minScore: this.settings.minScore,
        classIds: [COCO_PERSON],
      });
      const people: PersonDetection[] = [];
      for (const b of classAwareNms(raw, this.settings.nmsIou, this.settings.maxDetections)) {
        const box = {
          x: b.x0 / g.scaleX,
          y: b.y0 / g.scaleY,
          width: (b.x1 - b.x0) / g.scaleX,
          height: (b.y1 - b.y0) / g.scaleY,
        };
        const det = clampDetection(box, b.score, frame, 0);
        if (det) people.push(det);
      }
      return people;
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

/** `{ inputSize: undefined }` must not override the default. */
function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
