import type { Logger } from '@crowdlens/runtime';
import { createThreadDetector } from './create-face-detector';
import { createPersonDetector } from './create-person-detector';
import { DetectorWorkerPool } from './detector-worker-pool';
import type { SceneDetectorConfig } from './detector-worker-protocol';
import type { SceneDetector } from './scene-detector.port';
import { ThreadSceneDetector } from './thread-scene-detector';

/** Face (and person) detection on the calling thread: inside each worker, or the whole detector when `workers` is 0. */
export function createThreadSceneDetector(config: SceneDetectorConfig): SceneDetector {
  return new ThreadSceneDetector(
    createThreadDetector(config.faces),
    config.people ? createPersonDetector(config.people, config.faces) : null,
  );
}

/** `detector.workers: 0` detects on the calling thread (debugging, tiny deployments); otherwise a worker pool. */
export function createSceneDetector(config: SceneDetectorConfig, logger: Logger): SceneDetector {
  return config.faces.workers === 0 ? createThreadSceneDetector(config) : new DetectorWorkerPool(config, { logger });
}
