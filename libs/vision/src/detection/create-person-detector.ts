import type { DetectorConfig, PersonDetectorConfig } from '@crowdlens/config';
import { OnnxNanodetPersonDetector } from './person/onnx-nanodet-person-detector';
import type { PersonDetector } from './person-detector.port';

/**
 * The configured person detector, on the calling thread (each detector worker
 * makes its own). It runs where the face detector runs (same execution provider).
 */
export function createPersonDetector(config: PersonDetectorConfig, faces: DetectorConfig): PersonDetector {
  return new OnnxNanodetPersonDetector({
    inputSize: config.inputSize,
    minScore: config.minScore,
    executionProvider: faces.executionProvider,
    ...(config.modelPath ? { modelPath: config.modelPath } : {}),
  });
}
