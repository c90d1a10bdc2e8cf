/**
 * Event times bounded by the receiver's clock (issue 14 item 13): one prediction or track event
 * stamped a day ahead (an ingest clock stepped forward) used to raise its camera's watermark for
 * good, so every later on-time event was counted as late. The analytics recorders now refuse it
 * (dead-lettered with the reason) and the later events count. Real SQLite, the in-memory bus, the
 * recorders as analytics runs them, a fake clock.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryBus } from '@crowdlens/bus';
import { parseConfig } from '@crowdlens/config';
import {
  DEAD_LETTERS_TOPIC,
  GENDER_PREDICTIONS_TOPIC,
  TRACK_EVENTS_TOPIC,
  type DeadLetter,
} from '@crowdlens/contracts';
import { SqlAggregateStore, SqliteDriver } from '@crowdlens/storage';
import { PredictionRecorder } from '../../apps/analytics/src/services/prediction-recorder.service';
import { TrackEventRecorder } from '../../apps/analytics/src/services/track-event-recorder.service';
import { EventTimeBound, FutureEventError } from '../../apps/analytics/src/services/event-time-bound';
import { voteTrack } from '../../apps/analytics/src/services/track-vote';
import { FakeClock } from '../factories/fake-clock';
import { trackLifetime } from '../factories/track-event.factory';
import { personPrediction } from '../support/predictions';
import { waitFor } from '../rtsp/support/wait';

const NOW = Date.UTC(2026, 10, 23, 9, 30, 0);

/** Polls an asynchronous check (the store) until it returns something. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    const found = await check();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
const DAY = 86_400_000;

describe('EventTimeBound', () => {
  it('accepts the allowed skew ahead of the clock and refuses more, naming the setting', () => {
    const clock = new FakeClock(NOW);
    const bound = new EventTimeBound(clock, 60_000);
    expect(() => bound.check('door', 'frameTs', NOW - DAY)).not.toThrow();
    expect(() => bound.check('door', 'frameTs', NOW + 60_000)).not.toThrow();
    expect(() => bound.check('door', 'frameTs', NOW + 60_001)).toThrow(FutureEventError);
    expect(() => bound.check('door', 'frameTs', NOW + DAY)).toThrow(
      "camera door: frameTs is 86400000 ms ahead of this analytics process's clock (analytics.maxClockAheadMs = 60000)",
    );
    // The receiver's clock moves on: what was ahead is now on time.
    clock.advance(DAY);
    expect(() => bound.check('door', 'frameTs', NOW + DAY)).not.toThrow();
  });
});

describe('analytics recorders with an event from the future', () => {
  let store: SqlAggregateStore;
  let bus: InMemoryBus;
  let predictions: PredictionRecorder;
  let tracks: TrackEventRecorder;
  const deadLetters: DeadLetter[] = [];

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-future-'));
    const config = parseConfig({
      role: 'analytics',
      analytics: { maxClockAheadMs: 60_000, minTrackEvidence: 1, kAnonymity: 1 },
    });
    store = new SqlAggregateStore(new SqliteDriver(join(dir, 'agg.db')), {
      voter: (crops, sum) => voteTrack(crops, sum, { minEvidence: 1, minMargin: 0.1 }),
      allowedLatenessMs: config.analytics.allowedLatenessMs,
    });
    await store.migrate();
    bus = new InMemoryBus({ queueCapacity: 64 });
    const clock = new FakeClock(NOW);
    const logger = pino({ level: 'silent' });
    predictions = new PredictionRecorder(bus, store, logger, new Registry(), config, clock);
    tracks = new TrackEventRecorder(bus, store, logger, new Registry(), config, clock);
    await predictions.onApplicationBootstrap();
    await tracks.onApplicationBootstrap();
    deadLetters.length = 0;
    await bus.subscribe(DEAD_LETTERS_TOPIC, { group: 'test-dead-letters' }, async (d) => void deadLetters.push(d));
  });

  afterEach(async () => {
    await predictions.beforeApplicationShutdown();
    await tracks.beforeApplicationShutdown();
    await bus.close();
    await store.close();
  });

  it('a prediction a day ahead is dead-lettered and the on-time ones after it count (none late)', async () => {
    await bus.publish(GENDER_PREDICTIONS_TOPIC, personPrediction('future', 'door', 'ghost', NOW + DAY, 0.9));
    await bus.publish(GENDER_PREDICTIONS_TOPIC, personPrediction('skewed', 'door', 'man', NOW + 30_000, 0.9));
    await bus.publish(GENDER_PREDICTIONS_TOPIC, personPrediction('p1', 'door', 'woman', NOW - 5_000, 0.1));
    await bus.publish(GENDER_PREDICTIONS_TOPIC, personPrediction('p2', 'door', 'woman', NOW - 4_000, 0.2));
    await waitFor('the dead letter', () => deadLetters.length === 1, 10_000);
    const rows = await eventually('the on-time predictions', async () => {
      const r = await store.queryStats({ from: NOW - DAY, to: NOW + 2 * DAY, bucket: 'day' });
      return r.reduce((n, row) => n + row.faces, 0) === 3 ? r : undefined;
    });
    expect(rows.reduce((n, r) => n + r.visitors, 0)).toBe(2);
    expect(await store.lateEvents()).toBe(0);
    expect(deadLetters[0]).toMatchObject({ sourceTopic: GENDER_PREDICTIONS_TOPIC.name });
    expect(deadLetters[0]!.reason).toMatch(
      /camera door: frameTs is 86400000 ms ahead .*analytics\.maxClockAheadMs = 60000/,
    );
  });

  it('a track event a day ahead is dead-lettered and the on-time stays after it count (none late)', async () => {
    for (const e of trackLifetime({
      cameraId: 'door',
      trackId: 'ghost',
      firstSeenTs: NOW + DAY,
      lastSeenTs: NOW + DAY + 5_000,
    }))
      await bus.publish(TRACK_EVENTS_TOPIC, e);
    for (const e of trackLifetime({
      cameraId: 'door',
      trackId: 'stay',
      firstSeenTs: NOW - 60_000,
      lastSeenTs: NOW - 20_000,
    }))
      await bus.publish(TRACK_EVENTS_TOPIC, e);
    await waitFor('the dead letters', () => deadLetters.length === 2, 10_000);
    const rows = await eventually('the on-time stay', async () => {
      const r = await store.queryStats({ from: NOW - DAY, to: NOW + 2 * DAY, bucket: 'day' });
      return r.reduce((n, row) => n + row.visitors, 0) === 1 ? r : undefined;
    });
    expect(rows).toHaveLength(1);
    expect(await store.lateEvents()).toBe(0);
    expect(deadLetters.every((d) => /lastSeenTs is \d+ ms ahead/.test(d.reason))).toBe(true);
  });
});
