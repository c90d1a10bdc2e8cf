import type { GenderPrediction } from '@crowdlens/contracts';

/** A contract-valid prediction for one person (track) seen at `ts`, as inference would publish it. */
export function personPrediction(
  id: string,
  cameraId: string,
  trackId: string,
  ts: number,
  probMale: number,
): GenderPrediction {
  return {
    schemaVersion: 1,
    predictionId: id,
    cameraId,
    trackId,
    frameTs: ts,
    probMale,
    label: probMale >= 0.5 ? 'male' : 'female',
    quality: 0.8,
    model: { name: 'test', version: '1' },
    inferenceMs: 3,
  };
}
