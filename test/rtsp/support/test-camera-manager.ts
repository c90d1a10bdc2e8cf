import type { Logger } from 'pino';
import {
  CountingConfigSchema,
  DetectorConfigSchema,
  TrackerConfigSchema,
  type DetectorConfigInput,
} from '@crowdlens/config';
import type { CameraStatus, FaceCrop, TrackEvent } from '@crowdlens/contracts';
import { CameraManager } from '@crowdlens/vision';

/**
 * A CameraManager as the RTSP tests want it: one detector worker, crops and
 * statuses collected in arrays, and capture timings short enough that a dead
 * camera shows within seconds instead of the production defaults' tens.
 */
export async function startTestCameraManager(opts: {
  readonly logger: Logger;
  readonly crops: FaceCrop[];
  readonly statuses?: CameraStatus[];
  readonly trackEvents?: TrackEvent[];
  readonly detector?: DetectorConfigInput;
}): Promise<CameraManager> {
  const manager = new CameraManager({
    logger: opts.logger,
    detector: DetectorConfigSchema.parse({ workers: 1, ...opts.detector }),
    // Faces as the unit: these tests are about capture, and the face detector alone is cheaper.
    counting: CountingConfigSchema.parse({ unit: 'faces' }),
    tracker: TrackerConfigSchema.parse({}),
    cropSink: async (c) => void opts.crops.push(c),
    trackEventSink: async (e) => void opts.trackEvents?.push(e),
    statusSink: (s) => void opts.statuses?.push(s),
    statusIntervalMs: 0,
    capture: { backoff: { initialMs: 500, maxMs: 2000 }, ioTimeoutMs: 3000, stallTimeoutMs: 5000 },
  });
  await manager.start();
  return manager;
}
