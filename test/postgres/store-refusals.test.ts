/**
 * A record PostgreSQL refuses for good must not block its partition (issue
 * 14, item 14). Before, the recorders retried every store error forever, so
 * one such message stopped everything behind it. Now the refused record is
 * dead-lettered with the database's reason and the rest is stored. Real
 * PostgreSQL, the real recorders and store, the in-memory bus.
 */
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryBus } from '@crowdlens/bus';
import { SYSTEM_CLOCK } from '@crowdlens/runtime';
import { parseConfig } from '@crowdlens/config';
import { DEAD_LETTERS_TOPIC, TRACK_EVENTS_TOPIC, type DeadLetter } from '@crowdlens/contracts';
import { PostgresDriver, SqlAggregateStore } from '@crowdlens/storage';
import { PredictionRecorder } from '../../apps/analytics/src/services/prediction-recorder.service';
import { TrackEventRecorder } from '../../apps/analytics/src/services/track-event-recorder.service';
import { trackLifetime } from '../factories/track-event.factory';
import { meanVoter } from '../factories/voter.factory';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { report, waitFor } from '../support/wait';

const T0 = Date.UTC(2026, 10, 3, 9, 0, 0);
const silent = pino({ level: 'silent' });

describe('records PostgreSQL refuses for good', () => {
  let db: TestDatabase;
  let driver: PostgresDriver;
  let store: SqlAggregateStore;

  beforeAll(async () => {
    db = await createTestDatabase('refusals');
    driver = new PostgresDriver({ url: db.url });
    store = new SqlAggregateStore(driver, { voter: meanVoter(1), allowedLatenessMs: 24 * 3_600_000 });
    await store.migrate();
  }, 300_000);

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  const count = async (table: string): Promise<number> =>
    Number((await driver.all<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

  it('a prediction id with a NUL byte (SQLSTATE 22021) fails alone; the other predictions of its batch are stored', async () => {
    const bus = new InMemoryBus({ queueCapacity: 1_000 });
    const recorder = new PredictionRecorder(bus, store, silent, new Registry(), parseConfig({}), SYSTEM_CLOCK);
    // Straight into the recorder, as a message that passed an older, laxer contract would arrive.
    const ids = Array.from({ length: 30 }, (_, i) => (i === 17 ? 'p-17\u0000' : `p-${i}`));
    const outcomes = await Promise.allSettled(
      ids.map((id, i) =>
        recorder.record({
          schemaVersion: 1,
          predictionId: id,
          cameraId: 'door',
          trackId: `t-${i % 6}`,
          frameTs: T0 + i * 1_000,
          probMale: 0.8,
          label: 'male',
          quality: 0.8,
          model: { name: 'test', version: '1' },
          inferenceMs: 2,
        }),
      ),
    );
    const refused = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [[i, String(o.reason)] as const] : []));
    report(`NUL id: ${refused.length} refused: ${refused.map(([, r]) => r).join('; ')}`);
    expect(refused.map(([i]) => i)).toEqual([17]);
    expect(refused[0]![1]).toMatch(/p-17\\u0000.*permanent.*(0x00|invalid byte sequence)/);
    expect(await count('applied_predictions')).toBe(29);
    await recorder.beforeApplicationShutdown();
  });

  it('a track event whose frame count overflows the column (22003) is dead-lettered with the reason; later events are stored', async () => {
    const bus = new InMemoryBus({ queueCapacity: 1_000 });
    const letters: DeadLetter[] = [];
    await bus.subscribe(DEAD_LETTERS_TOPIC, { group: 'dlq' }, async (d) => void letters.push(d));
    const recorder = new TrackEventRecorder(bus, store, silent, new Registry(), parseConfig({}), SYSTEM_CLOCK);
    await recorder.onApplicationBootstrap();

    const lifetimes = Array.from({ length: 8 }, (_, k) =>
      trackLifetime({
        cameraId: 'lobby',
        trackId: `lobby-t${k}`,
        firstSeenTs: T0 + k * 5_000,
        lastSeenTs: T0 + k * 5_000 + 70_000,
      }),
    );
    const events = lifetimes.flat();
    // Valid for the contract (a non-negative integer), too big for PostgreSQL's INTEGER.
    const poisoned = { ...events[5]!, frames: 3_000_000_000 };
    for (const e of events.slice(0, 5)) await bus.publish(TRACK_EVENTS_TOPIC, e);
    await bus.publish(TRACK_EVENTS_TOPIC, poisoned);
    for (const e of events.slice(6)) await bus.publish(TRACK_EVENTS_TOPIC, e);

    await waitFor('the poisoned event dead-lettered', () => letters.length >= 1, 60_000);
    await bus.idle();
    report(`overflowing frames: dead letter reason "${letters[0]!.reason}"`);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.sourceTopic).toBe(TRACK_EVENTS_TOPIC.name);
    expect(letters[0]!.reason).toMatch(/permanent.*out of range/);
    expect(JSON.parse(Buffer.from(letters[0]!.payloadBase64, 'base64').toString('utf8'))).toMatchObject({
      eventId: poisoned.eventId,
    });
    expect(await count('applied_track_events')).toBe(events.length - 1);
    expect(await count("tracks WHERE camera_id = 'lobby'")).toBe(8);
    await recorder.beforeApplicationShutdown();
    await bus.close();
  });
});
