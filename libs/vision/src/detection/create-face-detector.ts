import type { DetectorConfig } from '@crowdlens/config';
import type { FaceDetector } from './face-detector.port';
import { FaceapiFaceDetector } from './faceapi-face-detector';
import { OnnxSsdFaceDetector } from './onnx-ssd-face-detector';
import { OnnxRetinafaceFaceDetector } from './retinaface/onnx-retinaface-face-detector';

/** 'auto' picks onnxruntime wherever it can run the chosen model (SSD, RetinaFace), TF.js otherwise. */
export function detectorEngine(config: DetectorConfig): 'onnx' | 'tfjs' {
  if (config.engine !== 'auto') return config.engine;
  return config.type === 'tiny' ? 'tfjs' : 'onnx';
}

/** One detector on the calling thread: used directly when `workers` is 0, and inside each worker. */
export function createThreadDetector(config: DetectorConfig): FaceDetector {
  if (config.type === 'retinaface') return new OnnxRetinafaceFaceDetector(config);
  return detectorEngine(config) === 'onnx' ? new OnnxSsdFaceDetector(config) : new FaceapiFaceDetector(config);
}
