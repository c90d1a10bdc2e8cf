/** Contract-valid messages for the bus tests; content is arbitrary but deterministic. */
import type { FaceCrop, GenderPrediction } from '@crowdlens/contracts';

export function prediction(id: string, cameraId: string, seq = 0): GenderPrediction {
  return {
    schemaVersion: 1,
    predictionId: id,
    cameraId,
    trackId: `t-${cameraId}`,
    frameTs: 1_700_000_000_000 + seq,
    probMale: 0.7,
    label: 'male',
    quality: 0.5,
    model: { name: 'test', version: '1' },
    inferenceMs: 1,
  };
}

export function crop(i: number, cameraId: string): FaceCrop {
  const jpeg = new Uint8Array(2_000 + ((i * 977) % 15_000));
  for (let k = 0; k < jpeg.length; k++) jpeg[k] = (k * 31 + i * 7) & 0xff;
  jpeg[0] = 0xff;
  jpeg[1] = 0xd8;
  return {
    schemaVersion: 1,
    cropId: `crop-${i}`,
    cameraId,
    trackId: `t-${i % 5}`,
    frameTs: 1_700_000_000_000 + i,
    box: { x: 10, y: 20, width: 100, height: 120 },
    detectionScore: 0.9,
    quality: 0.8,
    width: 224,
    height: 224,
    jpeg,
  };
}
