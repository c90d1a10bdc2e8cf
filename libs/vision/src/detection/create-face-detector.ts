import type { DetectorConfig } from '@crowdlens/config';
import type { Logger } from '@crowdlens/common';
import { DetectorWorkerPool } from './detector-worker-pool';
import type { FaceDetector } from './face-detector.port';
import { FaceapiFaceDetector } from './faceapi-face-detector';

/** `workers: 0` detects on the calling thread (debugging, tiny deployments); otherwise a worker pool. */
export function createFaceDetector(config: DetectorConfig, logger: Logger): FaceDetector {
  return config.workers === 0 ? new FaceapiFaceDetector(config) : new DetectorWorkerPool(config, { logger });
}
