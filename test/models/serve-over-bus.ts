/**
 * Test helper: boots an inference process (in-memory bus) on an exported
 * model, publishes real face crops on the crops topic and collects the
 * predictions, then reads GET /api/models as a viewer (API key).
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { MESSAGE_BUS, type InMemoryBus } from '@crowdlens/bus';
import { createLogger } from '@crowdlens/runtime';
import { parseConfig } from '@crowdlens/config';
import { FACE_CROPS_TOPIC, GENDER_PREDICTIONS_TOPIC, type GenderPrediction } from '@crowdlens/contracts';
import type { RgbImage } from '@crowdlens/models';
import { startCrowdLens } from '../../apps/embedded/src/bootstrap';
import type { ModelsResponse } from '../../apps/inference/src/dtos/active-model.dto';

export const VIEWER_KEY = 'viewer-key-models-0123456789';

export interface Served {
  readonly predictions: GenderPrediction[];
  readonly models: ModelsResponse;
  /** Status of GET /api/models without credentials. */
  readonly anonymousStatus: number;
}

export async function serveOverBus(modelPath: string, dataDir: string, crops: readonly RgbImage[]): Promise<Served> {
  const config = parseConfig({
    role: 'inference',
    dataDir,
    http: { port: 0, host: '127.0.0.1' },
    model: { type: 'onnx', path: modelPath, intraOpThreads: 2 },
    batcher: { maxBatch: 4, maxWaitMs: 20, queueCapacity: 64, maxInFlight: 1 },
    auth: {
      apiKeys: [{ name: 'dash', role: 'viewer', keySha256: createHash('sha256').update(VIEWER_KEY).digest('hex') }],
    },
  });
  const running = await startCrowdLens(config, createLogger('warn'));
  try {
    const bus = running.app.get<InMemoryBus>(MESSAGE_BUS);
    const predictions: GenderPrediction[] = [];
    await bus.subscribe(GENDER_PREDICTIONS_TOPIC, { group: 'test' }, async (p) => void predictions.push(p));
    for (const [i, c] of crops.entries()) {
      if (c.width !== 224 || c.height !== 224) throw new Error('face crops on the bus are 224x224');
      const jpeg = await sharp(Buffer.from(c.data), { raw: { width: c.width, height: c.height, channels: 3 } })
        .jpeg()
        .toBuffer();
      await bus.publish(FACE_CROPS_TOPIC, {
        schemaVersion: 1,
        cropId: `crop-${i}`,
        cameraId: 'cam',
        trackId: `t-${i}`,
        frameTs: 1_795_000_000_000 + i,
        box: { x: 1, y: 1, width: 50, height: 50 },
        detectionScore: 0.9,
        quality: 0.7,
        width: 224,
        height: 224,
        jpeg: new Uint8Array(jpeg),
      });
    }
    const deadline = Date.now() + 120_000;
    while (predictions.length < crops.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const anonymousStatus = (await fetch(`${running.url}/api/models`)).status;
    const res = await fetch(`${running.url}/api/models`, { headers: { authorization: `Bearer ${VIEWER_KEY}` } });
    if (res.status !== 200) throw new Error(`GET /api/models as viewer: ${res.status} ${await res.text()}`);
    return { predictions, models: (await res.json()) as ModelsResponse, anonymousStatus };
  } finally {
    await running.close();
  }
}
