import type { PersonDetectorConfig } from '@crowdlens/config';
import type { PersonDetector } from './person-detector.port';

/** The configured person detector, on the calling thread (each detector worker makes its own). */
export function createPersonDetector(config: PersonDetectorConfig): PersonDetector {
  throw new Error(`person detector not available yet (input ${config.inputSize})`);
}
