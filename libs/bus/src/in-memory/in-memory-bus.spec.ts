import { describe, expect, it } from 'vitest';
import {
  CAMERA_STATUS_TOPIC,
  DEAD_LETTERS_TOPIC,
  GENDER_PREDICTIONS_TOPIC,
  type DeadLetter,
  type GenderPrediction,
} from '@crowdlens/contracts';
import { RetryLaterError } from '../retry-later.error';
import { InMemoryBus } from './in-memory-bus';

function prediction(i: number, cameraId = 'cam-1'): GenderPrediction {
  return {
    schemaVersion: 1,
    predictionId: `p-${i}`,
    cameraId,
    trackId: `t-${i}`,
    frameTs: 1_700_000_000_000 + i,
    probMale: 0.8,
    label: 'male',
    quality: 0.5,
    model: { name: 'test', version: '1' },
    inferenceMs: 1,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('InMemoryBus', () => {
  it('delivers every message to each group, and splits a group between its members', async () => {
    const bus = new InMemoryBus({ queueCapacity: 100 });
    const a: string[] = [];
    const b1: string[] = [];
    const b2: string[] = [];
    await bus.subscribe(GENDER_PREDICTIONS_TOPIC, { group: 'a' }, async (p) => void a.push(p.predictionId));
    await bus.subscribe(GENDER_PREDICTIONS_TOPIC, { group: 'b' }, async (p) => {
      await sleep(1);
      b1.push(p.predictionId);
    });
    await bus.subscribe(GENDER_PREDICTIONS_TOPIC, { group: 'b' }, async (p) => {
      await sleep(1);
      b2.push(p.predictionId);
    });
    for (let i = 0; i < 20; i++) await bus.publish(GENDER_PREDICTIONS_TOPIC, prediction(i));
    await bus.idle();
    expect(a).toHaveLength(20);
    expect(b1.length + b2.length).toBe(20);
    expect(b1.length).toBeGreaterThan(0);
    expect(b2.length).toBeGreaterThan(0);
    expect(new Set([...b1, ...b2]).size).toBe(20);
  });

  it('drops and counts instead of growing when a consumer is slow', async () => {
    const bus = new InMemoryBus({ queueCapacity: 5 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    await bus.subscribe(GENDER_PREDICTIONS_TOPIC, { group: 'slow' }, async (p) => {
      await gate;
      seen.push(p.predictionId);
    });
    for (let i = 0; i < 50; i++) await bus.publish(GENDER_PREDICTIONS_TOPIC, prediction(i));
    const stats = bus.stats().groups.find((g) => g.group === 'slow')!;
    expect(stats.queued).toBe(5);
    expect(stats.dropped).toBe(50 - 5 - 1); // one in the handler, five queued
    release();
    await bus.idle();
    expect(seen).toHaveLength(6);
    expect(bus.stats().published[GENDER_PREDICTIONS_TOPIC.name]).toBe(50);
  });

  it('refuses to publish a message that breaks its schema', async () => {
    const bus = new InMemoryBus({ queueCapacity: 5 });
    const bad = { ...prediction(1), probMale: 7 };
    await expect(bus.publish(GENDER_PREDICTIONS_TOPIC, bad)).rejects.toThrow(/invalid crowdlens.gender-predictions.v1/);
  });

  it('dead-letters a message whose handler throws, with the reason, and keeps the stream flowing', async () => {
    const bus = new InMemoryBus({ queueCapacity: 10 });
    const letters: DeadLetter[] = [];
    const ok: string[] = [];
    await bus.subscribe(DEAD_LETTERS_TOPIC, { group: 'dlq' }, async (d) => void letters.push(d));
    await bus.subscribe(GENDER_PREDICTIONS_TOPIC, { group: 'g' }, async (p) => {
      if (p.predictionId === 'p-1') throw new Error('poison');
      ok.push(p.predictionId);
    });
    for (let i = 0; i < 3; i++) await bus.publish(GENDER_PREDICTIONS_TOPIC, prediction(i));
    await bus.idle();
    expect(ok).toEqual(['p-0', 'p-2']);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.reason).toContain('poison');
    expect(letters[0]!.sourceTopic).toBe(GENDER_PREDICTIONS_TOPIC.name);
    expect(JSON.parse(Buffer.from(letters[0]!.payloadBase64, 'base64').toString()).predictionId).toBe('p-1');
  });

  it('never dead-letters a message its handler hands back with RetryLaterError (counted as dropped)', async () => {
    const bus = new InMemoryBus({ queueCapacity: 10 });
    const letters: DeadLetter[] = [];
    await bus.subscribe(DEAD_LETTERS_TOPIC, { group: 'dlq' }, async (d) => void letters.push(d));
    await bus.subscribe(GENDER_PREDICTIONS_TOPIC, { group: 'g' }, async () => {
      throw new RetryLaterError('store unavailable');
    });
    await bus.publish(GENDER_PREDICTIONS_TOPIC, prediction(1));
    await bus.idle();
    expect(letters).toEqual([]);
    expect(bus.stats().deadLettered).toBe(0);
    expect(bus.stats().groups.find((g) => g.group === 'g')).toMatchObject({ dropped: 1, failed: 0 });
  });

  it('runs up to `concurrency` handlers at once for one subscriber', async () => {
    const bus = new InMemoryBus({ queueCapacity: 100 });
    let running = 0;
    let peak = 0;
    await bus.subscribe(CAMERA_STATUS_TOPIC, { group: 'c', concurrency: 4 }, async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(5);
      running--;
    });
    for (let i = 0; i < 12; i++) {
      await bus.publish(CAMERA_STATUS_TOPIC, {
        schemaVersion: 1,
        cameraId: `c${i}`,
        name: 'x',
        url: 'file.mp4',
        state: 'streaming',
        lastError: null,
        fps: 1,
        framesIn: 0,
        framesAnalysed: 0,
        framesDropped: 0,
        framesSkipped: 0,
        facesDetected: 0,
        tracks: 0,
        reconnects: 0,
        updatedAt: i,
      });
    }
    await bus.idle();
    expect(peak).toBe(4);
  });
});
