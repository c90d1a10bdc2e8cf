/**
 * The ResNet50 path: an ONNX graph exported by tools/crowdlens_tools/export.py,
 * run by onnxruntime-node. A model is served only after its manifest, its
 * sha256 and its graph signature have been checked and a one-image probe has
 * returned two finite logits.
 */
import * as ort from 'onnxruntime-node';
import type { ClassifierInfo, GenderClassifier, GenderScore, RgbImage } from '../gender-classifier.port';
import {
  defaultManifestPath,
  loadManifest,
  ModelValidationError,
  verifyGraphAgainstManifest,
  verifyModelAgainstManifest,
  type ModelManifest,
} from '../manifest/model-manifest';
import { TorchvisionPreprocessor } from '../preprocess/torchvision-preprocess';
import { openWithProvider, type OnnxExecutionProvider } from './provider-session';

export type { OnnxExecutionProvider } from './provider-session';

/** The two log calls this class makes; a pino Logger fits. */
export interface ModelLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface OnnxGenderClassifierOptions {
  readonly path: string;
  /** Defaults to `<path>.manifest.json`. */
  readonly manifest?: string;
  readonly executionProvider?: OnnxExecutionProvider;
  /** onnxruntime intra-op threads; 0 lets onnxruntime use every core. */
  readonly intraOpThreads?: number;
  readonly logger?: ModelLogger;
}

const silentLogger: ModelLogger = { info: () => undefined, warn: () => undefined };

export class OnnxGenderClassifier implements GenderClassifier {
  private session: ort.InferenceSession | null = null;
  private manifest: ModelManifest | null = null;
  private readonly preprocessor = new TorchvisionPreprocessor();
  /**
   * Preallocated NCHW input buffers. onnxruntime reads a buffer while `run` is
   * pending, so concurrent batches (batcher maxInFlight > 1) each take their
   * own; in steady state no batch allocates.
   */
  private readonly freeBuffers: Float32Array[] = [];
  private activeProvider: OnnxExecutionProvider = 'cpu';
  private readonly manifestPath: string;
  private readonly logger: ModelLogger;

  constructor(private readonly options: OnnxGenderClassifierOptions) {
    this.manifestPath = options.manifest ?? defaultManifestPath(options.path);
    this.logger = options.logger ?? silentLogger;
  }

  get info(): ClassifierInfo {
    return {
      name: this.manifest?.name ?? 'onnx',
      version: this.manifest?.version ?? 'unloaded',
      runtime: `onnxruntime-${this.activeProvider}`,
      ...(this.manifest
        ? {
            sha256: this.manifest.sha256,
            architecture: this.manifest.architecture,
            precision: this.manifest.precision,
            card: this.manifest.card ?? null,
          }
        : {}),
    };
  }

  /** The validated manifest of the loaded model. */
  get modelManifest(): ModelManifest {
    if (!this.manifest) throw new Error('OnnxGenderClassifier: load() first');
    return this.manifest;
  }

  async load(): Promise<void> {
    if (this.session) return;
    const { path } = this.options;
    const manifest = await loadManifest(this.manifestPath, path);
    await verifyModelAgainstManifest(path, manifest, this.manifestPath);
    const session = await this.createSession();
    try {
      verifyGraphAgainstManifest(
        { inputs: session.inputMetadata, outputs: session.outputMetadata },
        manifest,
        path,
        this.manifestPath,
      );
      this.manifest = manifest;
      this.session = session;
      await this.probe();
    } catch (err) {
      this.session = null;
      this.manifest = null;
      await session.release();
      throw err;
    }
    this.logger.info(
      { model: manifest.name, version: manifest.version, sha256: manifest.sha256, provider: this.activeProvider },
      'onnx gender classifier loaded',
    );
  }

  async classify(batch: readonly RgbImage[]): Promise<GenderScore[]> {
    const logits = await this.logits(batch);
    const scores: GenderScore[] = new Array<GenderScore>(batch.length);
    for (let i = 0; i < batch.length; i++) {
      // softmax over [female, male]: p1 = 1 / (1 + e^(l0 - l1)), stable for large |l0 - l1|.
      scores[i] = { probMale: 1 / (1 + Math.exp(logits[2 * i]! - logits[2 * i + 1]!)) };
    }
    return scores;
  }

  /** Raw [N,2] logits (female, male) for a batch, row-major. */
  async logits(batch: readonly RgbImage[]): Promise<Float32Array> {
    const session = this.session;
    const manifest = this.manifest;
    if (!session || !manifest) throw new Error('OnnxGenderClassifier.classify called before load()');
    if (batch.length === 0) return new Float32Array(0);
    const needed = batch.length * this.preprocessor.imageLength;
    const index = this.freeBuffers.findIndex((b) => b.length >= needed);
    const buffer = index >= 0 ? this.freeBuffers.splice(index, 1)[0]! : this.preprocessor.allocate(batch.length);
    try {
      for (let i = 0; i < batch.length; i++) this.preprocessor.writeInto(batch[i]!, buffer, i);
      return await this.run(session, manifest, buffer.subarray(0, needed), batch.length);
    } finally {
      this.freeBuffers.push(buffer);
    }
  }

  /** Runs an already preprocessed NCHW float32 batch (used by tests to compare with Python on the same tensor). */
  async runPreprocessed(input: Float32Array, n: number): Promise<Float32Array> {
    const session = this.session;
    const manifest = this.manifest;
    if (!session || !manifest) throw new Error('OnnxGenderClassifier.runPreprocessed called before load()');
    return this.run(session, manifest, input, n);
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = null;
    this.manifest = null;
    this.freeBuffers.length = 0;
    if (session) await session.release();
  }

  private async run(
    session: ort.InferenceSession,
    manifest: ModelManifest,
    input: Float32Array,
    n: number,
  ): Promise<Float32Array> {
    const size = this.preprocessor.size;
    if (input.length !== n * this.preprocessor.imageLength) {
      throw new RangeError(`input has ${input.length} floats, expected ${n}x3x${size}x${size}`);
    }
    const tensor = new ort.Tensor('float32', input, [n, 3, size, size]);
    const outputs = await session.run({ [manifest.input.name]: tensor }, [manifest.output.name]);
    const out = outputs[manifest.output.name];
    if (!out || out.type !== 'float32' || out.dims.length !== 2 || out.dims[0] !== n || out.dims[1] !== 2) {
      throw new Error(
        `model ${this.options.path} returned ${out ? `${out.type}[${out.dims.join(',')}]` : 'nothing'} for ${n} images, expected float32[${n},2]`,
      );
    }
    return out.data as Float32Array;
  }

  /**
   * Opens the session on the configured provider. A GPU provider that cannot
   * start here (binaries not installed, no device) falls back to CPU with a
   * single warning; a file onnxruntime cannot parse is a corrupt model.
   */
  private async createSession(): Promise<ort.InferenceSession> {
    const requested = this.options.executionProvider ?? 'cpu';
    let opened: Awaited<ReturnType<typeof openWithProvider>>;
    try {
      opened = await openWithProvider(this.options.path, requested, {
        graphOptimizationLevel: 'all',
        intraOpNumThreads: this.options.intraOpThreads ?? 0,
        interOpNumThreads: 1,
        executionMode: 'sequential',
      });
    } catch (err) {
      throw new ModelValidationError(
        'model-corrupt',
        `onnxruntime cannot open the model: ${(err as Error).message}`,
        this.options.path,
        this.manifestPath,
        { cause: err },
      );
    }
    if (opened.fallbackReason !== null) {
      this.logger.warn(
        { requested, using: 'cpu', reason: opened.fallbackReason, model: this.options.path },
        `onnx execution provider "${requested}" is unavailable, falling back to CPU`,
      );
    }
    this.activeProvider = opened.provider;
    return opened.session;
  }

  /** One zero image through the graph: catches graphs whose metadata looks right but whose output does not. */
  private async probe(): Promise<void> {
    const input = this.preprocessor.allocate(1);
    let logits: Float32Array;
    try {
      logits = await this.runPreprocessed(input, 1);
    } catch (err) {
      throw new ModelValidationError(
        'graph-mismatch',
        `probe inference failed: ${(err as Error).message}`,
        this.options.path,
        this.manifestPath,
        {
          cause: err,
        },
      );
    }
    if (!Number.isFinite(logits[0]) || !Number.isFinite(logits[1])) {
      throw new ModelValidationError(
        'graph-mismatch',
        `probe inference returned non-finite logits [${logits[0]}, ${logits[1]}]`,
        this.options.path,
        this.manifestPath,
      );
    }
  }
}
