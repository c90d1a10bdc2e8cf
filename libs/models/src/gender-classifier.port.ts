import type { ModelCard } from './manifest/model-card';

/** A decoded 224x224 RGB face crop, row-major, 3 bytes per pixel. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export interface GenderScore {
  /** P(male) = softmax(logits)[1], label order [female, male] as in the model contract. */
  readonly probMale: number;
}

export interface ClassifierInfo {
  readonly name: string;
  readonly version: string;
  /** Runtime actually in use, e.g. "tfjs-wasm", "onnxruntime-cpu". */
  readonly runtime: string;
  /** sha256 of the model file, as its validated manifest states; absent for models without a manifest. */
  readonly sha256?: string;
  /** e.g. "torchvision resnet50, fc 2048->2"; from the manifest where there is one. */
  readonly architecture?: string;
  readonly precision?: string;
  /** How good the model is, for whom (`evaluate --attach-card`); null = never measured. */
  readonly card?: ModelCard | null;
}

/**
 * Every classifier backend (face-api head, ONNX ResNet50, TF.js model) behind
 * one shape. `classify` takes a whole batch: batching is the caller's job.
 */
export interface GenderClassifier {
  readonly info: ClassifierInfo;
  load(): Promise<void>;
  classify(batch: readonly RgbImage[]): Promise<GenderScore[]>;
  close(): Promise<void>;
}

export const GENDER_CLASSIFIER = Symbol('GenderClassifier');
