import type { DetectorConfig } from '@crowdlens/config';
// The runtime module itself, not the @crowdlens/runtime barrel: this file is the
// heart of every detector worker thread, and the barrel also loads pino and the
// config schema (start-up per worker for nothing).
import { tfjsRuntime, type FaceApi, type TfjsRuntime } from '@crowdlens/runtime/tfjs-runtime';
import { assertRgbFrame, type Frame } from '../frame';
import { clampDetection } from './clamp-detection';
import type { FaceDetectOptions, FaceDetection, FaceDetector } from './face-detector.port';

/** The parts of tf that face-api's typings leave out but every backend has. */
interface TfMemory {
  memory(): { numTensors: number; numBytes: number };
}

/**
 * face-api's Tiny Face Detector or SSD MobileNet v1 on the calling thread.
 * Used directly when `workers` is 0, and inside each detector worker.
 */
export class FaceapiFaceDetector implements FaceDetector {
  readonly concurrency = 1;
  private faceapi: FaceApi | null = null;
  private runtimeBackend = 'unloaded';
  private options:
    InstanceType<FaceApi['TinyFaceDetectorOptions']> | InstanceType<FaceApi['SsdMobilenetv1Options']> | null = null;

  constructor(
    private readonly config: DetectorConfig,
    private readonly runtime: () => Promise<TfjsRuntime> = tfjsRuntime,
  ) {}

  get backend(): string {
    return this.runtimeBackend;
  }

  async load(): Promise<void> {
    if (this.faceapi) return;
    const rt = await this.runtime();
    const { faceapi } = rt;
    if (this.config.type === 'tiny') {
      if (!faceapi.nets.tinyFaceDetector.isLoaded) await faceapi.nets.tinyFaceDetector.loadFromDisk(rt.modelDir);
      this.options = new faceapi.TinyFaceDetectorOptions({
        inputSize: this.config.inputSize,
        scoreThreshold: this.config.minScore,
      });
    } else {
      if (!faceapi.nets.ssdMobilenetv1.isLoaded) await faceapi.nets.ssdMobilenetv1.loadFromDisk(rt.modelDir);
      // SSD resizes to its fixed 512x512 input; inputSize does not apply.
      this.options = new faceapi.SsdMobilenetv1Options({ minConfidence: this.config.minScore, maxResults: 100 });
    }
    this.runtimeBackend = rt.backend;
    this.faceapi = faceapi;
  }

  async detect(frame: Frame, perCall?: FaceDetectOptions): Promise<FaceDetection[]> {
    const { faceapi } = this;
    let { options } = this;
    if (!faceapi || !options) throw new Error('FaceapiFaceDetector.detect called before load()');
    // Tiny takes another input size per call; SSD always runs at 512x512. Either takes another threshold.
    const inputSize = perCall?.inputSize ?? this.config.inputSize;
    const minScore = perCall?.minScore ?? this.config.minScore;
    if (this.config.type === 'tiny' && (inputSize !== this.config.inputSize || minScore !== this.config.minScore))
      options = new faceapi.TinyFaceDetectorOptions({ inputSize, scoreThreshold: minScore });
    else if (this.config.type !== 'tiny' && minScore !== this.config.minScore)
      options = new faceapi.SsdMobilenetv1Options({ minConfidence: minScore, maxResults: 100 });
    assertRgbFrame(frame);
    const pixels = new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.length);
    // The one tensor created here is disposed in `finally`; face-api disposes its own intermediates.
    const input = faceapi.tf.tensor3d(pixels, [frame.height, frame.width, 3], 'int32');
    try {
      const found = await faceapi.detectAllFaces(input, options);
      const out: FaceDetection[] = [];
      for (const d of found) {
        const det = clampDetection(d.box, d.score, frame, this.config.minFaceSize);
        if (det) out.push(det);
      }
      return out;
    } finally {
      input.dispose();
    }
  }

  /** Live TF.js tensors in this thread; a steady run must keep it flat. */
  tensorCount(): number {
    if (!this.faceapi) return 0;
    return (this.faceapi.tf as unknown as TfMemory).memory().numTensors;
  }

  async close(): Promise<void> {
    // Models stay cached in the thread's runtime (shared with the classifier); nothing per instance to free.
    this.faceapi = null;
    this.options = null;
  }
}
