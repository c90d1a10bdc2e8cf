import pino from 'pino';
import { Registry } from 'prom-client';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InMemoryBus } from '@crowdlens/bus';
import { parseConfig } from '@crowdlens/config';
import {
  DEAD_LETTERS_TOPIC,
  FACE_CROPS_TOPIC,
  GENDER_PREDICTIONS_TOPIC,
  type DeadLetter,
  type FaceCrop,
  type GenderPrediction,
} from '@crowdlens/contracts';
import type { GenderClassifier, GenderScore, RgbImage } from '@crowdlens/models';
import { JpegDecoder } from '../adapters/jpeg-decoder';
import { InferenceMetrics } from './inference-metrics';
import { InferenceService } from './inference.service';

const RETRY = { attempts: 3, backoff: { initialMs: 5, maxMs: 20, jitter: 0 } };

/** A classifier whose first `failures` runs throw, as a model session hiccup would. */
function flakyClassifier(failures: number) {
  const state = { calls: 0 };
  const classifier: GenderClassifier = {
    info: { name: 'flaky', version: '1', runtime: 'test' },
    load: async () => undefined,
    close: async () => undefined,
    classify: async (batch: readonly RgbImage[]): Promise<GenderScore[]> => {
      state.calls++;
      if (state.calls <= failures) throw new Error(`session run failed (${state.calls})`);
      return batch.map(() => ({ probMale: 0.9 }));
    },
  };
  return { classifier, state };
}

async function crop(id: string, jpeg?: Uint8Array<ArrayBuffer>): Promise<FaceCrop> {
  const real = await sharp({ create: { width: 224, height: 224, channels: 3, background: '#a07050' } })
    .jpeg()
    .toBuffer();
  return {
    schemaVersion: 1,
    cropId: id,
    cameraId: 'door',
    trackId: 'door-t1',
    frameTs: 1_700_000_000_000,
    box: { x: 1, y: 2, width: 30, height: 30 },
    detectionScore: 0.9,
    quality: 0.7,
    width: 224,
    height: 224,
    jpeg: jpeg ?? new Uint8Array(real.buffer as ArrayBuffer, real.byteOffset, real.byteLength),
  };
}

async function harness(classifier: GenderClassifier) {
  const bus = new InMemoryBus({ queueCapacity: 100 });
  const config = parseConfig({ batcher: { maxBatch: 4, maxWaitMs: 5 } });
  const metrics = new InferenceMetrics(new Registry());
  const service = new InferenceService(
    config,
    bus,
    classifier,
    pino({ level: 'silent' }),
    new JpegDecoder(),
    metrics,
    RETRY,
  );
  const predictions: GenderPrediction[] = [];
  const letters: DeadLetter[] = [];
  await bus.subscribe(GENDER_PREDICTIONS_TOPIC, { group: 'out' }, async (p) => void predictions.push(p));
  await bus.subscribe(DEAD_LETTERS_TOPIC, { group: 'dlq' }, async (d) => void letters.push(d));
  await service.onApplicationBootstrap();
  return { bus, service, predictions, letters };
}

describe('InferenceService: classifier failures', () => {
  it('retries a transient classifier failure instead of dead-lettering the crop', async () => {
    const { classifier, state } = flakyClassifier(2);
    const { bus, service, predictions, letters } = await harness(classifier);
    await bus.publish(FACE_CROPS_TOPIC, await crop('c-1'));
    await bus.idle();
    expect(letters).toEqual([]);
    expect(predictions.map((p) => p.predictionId)).toEqual(['c-1']);
    expect(state.calls).toBe(3);
    await service.beforeApplicationShutdown();
  });

  it('dead-letters the crop once the tries are spent, with the reason', async () => {
    const { classifier, state } = flakyClassifier(Number.POSITIVE_INFINITY);
    const { bus, service, predictions, letters } = await harness(classifier);
    await bus.publish(FACE_CROPS_TOPIC, await crop('c-2'));
    await bus.idle();
    expect(predictions).toEqual([]);
    expect(state.calls).toBe(RETRY.attempts);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.reason).toMatch(/c-2.*failed 3 times.*session run failed \(3\)/);
    await service.beforeApplicationShutdown();
  });

  it('dead-letters an undecodable image at once, without asking the classifier', async () => {
    const { classifier, state } = flakyClassifier(0);
    const { bus, service, letters } = await harness(classifier);
    await bus.publish(FACE_CROPS_TOPIC, await crop('c-3', new Uint8Array([0xff, 0xd8, 1, 2, 3])));
    await bus.idle();
    expect(state.calls).toBe(0);
    expect(letters.map((l) => l.reason)).toEqual([expect.stringMatching(/c-3.*undecodable image/)]);
    await service.beforeApplicationShutdown();
  });
});
