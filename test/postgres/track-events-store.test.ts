/**
 * Track lifetimes in SqlAggregateStore, on SQLite and on a real PostgreSQL:
 * a person is counted once from whichever of their track events or
 * predictions arrives first, dwell is the track's lifetime, and no order,
 * duplicate or replay changes a number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MIGRATIONS,
  PostgresDriver,
  SqlAggregateStore,
  SqliteDriver,
  type PredictionRecord,
  type SqlAggregateStoreOptions,
  type SqlDriver,
  type StatsQuery,
  type TrackEventRecord,
} from '@crowdlens/storage';
import { meanVoter } from '../factories/voter.factory';
import { toRecord } from '../../apps/analytics/src/services/track-event-recorder.service';
import { trackEvent, trackLifetime } from '../factories/track-event.factory';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DWELL_EDGES = [10_000, 30_000, 60_000, 120_000, 300_000, 600_000];

/** One crop decides (so a single prediction gives a gender), unless it is too close to 50/50. */
const voter = meanVoter(1);
const OPTIONS: SqlAggregateStoreOptions = { voter, allowedLatenessMs: 24 * HOUR };

const prediction = (id: string, cameraId: string, trackId: string, frameTs: number, probMale: number) =>
  ({ predictionId: id, cameraId, trackId, frameTs, probMale }) satisfies PredictionRecord;

const lifetime = (...args: Parameters<typeof trackLifetime>): TrackEventRecord[] =>
  trackLifetime(...args).map(toRecord);

/** Deterministic shuffles: the same run every time, a different order than the input. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

type Input = { kind: 'event'; record: TrackEventRecord } | { kind: 'prediction'; record: PredictionRecord };

/** Applies a mixed stream in batches of `batch`, each batch split by kind as the two recorders would. */
async function applyAll(store: SqlAggregateStore, inputs: readonly Input[], batch: number) {
  const totals = { applied: 0, duplicates: 0, late: 0 };
  for (let i = 0; i < inputs.length; i += batch) {
    const slice = inputs.slice(i, i + batch);
    const events = slice.flatMap((x) => (x.kind === 'event' ? [x.record] : []));
    const predictions = slice.flatMap((x) => (x.kind === 'prediction' ? [x.record] : []));
    for (const r of [await store.applyTrackEvents(events), await store.applyPredictions(predictions)]) {
      totals.applied += r.applied;
      totals.duplicates += r.duplicates;
      totals.late += r.late;
    }
  }
  return totals;
}

/** Every read the API makes, for the cameras given, with the camera ids renamed so two prefixes compare. */
async function figures(store: SqlAggregateStore, cameraIds: readonly string[], rename: (id: string) => string) {
  const range = { cameraIds, from: T0 - HOUR, to: T0 + 6 * HOUR };
  const stats = [];
  for (const bucket of ['minute', 'hour', 'day'] as const) {
    const rows = await store.queryStats({ ...range, bucket });
    stats.push(rows.map((r) => ({ ...r, cameraId: rename(r.cameraId) })));
  }
  const dwell = (await store.dwellByBucket({ ...range, bucket: 'minute' })).map((r) => ({
    ...r,
    cameraId: rename(r.cameraId),
  }));
  return { stats, dwell, histogram: await store.dwellHistogram({ ...range, edgesMs: DWELL_EDGES }) };
}

interface Backend {
  readonly name: string;
  open(label: string): Promise<{ store: SqlAggregateStore; driver: SqlDriver; dispose(): Promise<void> }>;
}

const BACKENDS: readonly Backend[] = [
  {
    name: 'SQLite',
    open: async () => {
      const driver = new SqliteDriver(':memory:');
      const store = new SqlAggregateStore(driver, OPTIONS);
      await store.migrate();
      return { store, driver, dispose: () => store.close() };
    },
  },
  {
    name: 'PostgreSQL',
    open: async (label) => {
      const db: TestDatabase = await createTestDatabase(label);
      const driver = new PostgresDriver({ url: db.url });
      const store = new SqlAggregateStore(driver, OPTIONS);
      await store.migrate();
      return {
        store,
        driver,
        dispose: async () => {
          await store.close();
          await db.drop();
        },
      };
    },
  },
];

describe.each(BACKENDS)('track lifetimes on $name', (backend) => {
  let store: SqlAggregateStore;
  let driver: SqlDriver;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ store, driver, dispose } = await backend.open('tracks'));
  });

  afterAll(async () => {
    await dispose?.();
  });

  it('counts one visitor whose dwell is the whole stay, not the time between classified crops', async () => {
    const cam = 'stay';
    const started = trackEvent('started', { cameraId: cam, trackId: 'p1', firstSeenTs: T0, lastSeenTs: T0, seq: 0 });
    const heartbeat = trackEvent('heartbeat', {
      cameraId: cam,
      trackId: 'p1',
      firstSeenTs: T0,
      lastSeenTs: T0 + 30_000,
      seq: 1,
      largestFacePx: 40,
    });
    const ended = trackEvent('ended', {
      cameraId: cam,
      trackId: 'p1',
      firstSeenTs: T0,
      lastSeenTs: T0 + 60_000,
      seq: 2,
      largestFacePx: 64,
    });
    expect(await store.applyTrackEvents([toRecord(started)])).toEqual({ applied: 1, duplicates: 0, late: 0 });
    expect(await store.applyPredictions([prediction('p1-crop', cam, 'p1', T0 + 1_000, 0.9)])).toMatchObject({
      applied: 1,
    });
    await store.applyTrackEvents([toRecord(heartbeat)]);
    await store.applyTrackEvents([toRecord(ended)]);

    const hour = await store.queryStats({ cameraIds: [cam], from: T0, to: T0 + HOUR, bucket: 'hour' });
    expect(hour).toEqual([{ cameraId: cam, bucketStart: T0, faces: 1, visitors: 1, male: 1, female: 0, unknown: 0 }]);
    expect(await store.dwellByBucket({ cameraIds: [cam], from: T0, to: T0 + HOUR, bucket: 'hour' })).toEqual([
      { cameraId: cam, bucketStart: T0, tracks: 1, dwellMsSum: 60_000 },
    ]);
    // 60 s is in the 1–2 min bin.
    expect(await store.dwellHistogram({ cameraIds: [cam], from: T0, to: T0 + HOUR, edgesMs: DWELL_EDGES })).toEqual([
      0, 0, 0, 1, 0, 0, 0,
    ]);
    const [row] = await driver.all<Record<string, unknown>>(
      `SELECT frames, largest_face_px, ended, end_reason, unit FROM tracks WHERE camera_id = ?`,
      [cam],
    );
    expect({ ...row, frames: Number(row!.frames), largest_face_px: Number(row!.largest_face_px) }).toEqual({
      frames: ended.frames,
      largest_face_px: 64,
      ended: 1,
      end_reason: 'left',
      unit: 'person',
    });
  });

  it('counts a person whose face was never classified as a visitor of unknown gender', async () => {
    const cam = 'faceless';
    await store.applyTrackEvents(
      lifetime({ cameraId: cam, trackId: 'seen', firstSeenTs: T0, lastSeenTs: T0 + 45_000 }),
    );
    await store.applyTrackEvents(
      lifetime({ cameraId: cam, trackId: 'classified', firstSeenTs: T0 + 5_000, lastSeenTs: T0 + 20_000 }),
    );
    await store.applyPredictions([prediction('classified-1', cam, 'classified', T0 + 6_000, 0.1)]);
    const [day] = await store.queryStats({ cameraIds: [cam], from: T0, to: T0 + HOUR, bucket: 'day' });
    expect(day).toMatchObject({ faces: 1, visitors: 2, female: 1, male: 0, unknown: 1 });
    expect(await store.dwellByBucket({ cameraIds: [cam], from: T0, to: T0 + HOUR, bucket: 'hour' })).toEqual([
      { cameraId: cam, bucketStart: T0, tracks: 2, dwellMsSum: 45_000 + 15_000 },
    ]);
  });

  it('gives the same numbers whether the prediction comes before the started event or after the ended one', async () => {
    // First seen at 09:00:50, the crop at 09:01:01: a prediction that arrives first puts the person in
    // minute 09:01, and the started event must move them back to 09:00.
    const events = lifetime({ cameraId: 'x', trackId: 'p', firstSeenTs: T0 + 50_000, lastSeenTs: T0 + 110_000 });
    expect(events.map((e) => e.ended)).toEqual([false, false, true]);
    const crop = prediction('p-crop', 'x', 'p', T0 + 61_000, 0.85);
    const orders: Record<string, Input[]> = {
      'events-first': [
        ...events.map((record) => ({ kind: 'event' as const, record })),
        { kind: 'prediction', record: crop },
      ],
      'prediction-first': [
        { kind: 'prediction', record: crop },
        ...events.map((record) => ({ kind: 'event' as const, record })),
      ],
      'prediction-between': [
        { kind: 'event', record: events[0]! },
        { kind: 'prediction', record: crop },
        ...events.slice(1).map((record) => ({ kind: 'event' as const, record })),
      ],
    };
    const results = [];
    for (const [name, inputs] of Object.entries(orders)) {
      const cam = `order-${name}`;
      const renamed = inputs.map((x): Input =>
        x.kind === 'event'
          ? { kind: 'event', record: { ...x.record, cameraId: cam, eventId: `${cam}/${x.record.eventId}` } }
          : {
              kind: 'prediction',
              record: { ...x.record, cameraId: cam, predictionId: `${cam}/${x.record.predictionId}` },
            },
      );
      // One message at a time, as each arrives.
      expect(await applyAll(store, renamed, 1)).toEqual({ applied: inputs.length, duplicates: 0, late: 0 });
      results.push(await figures(store, [cam], () => 'x'));
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    const [minute] = results[0]!.stats;
    // The visitor in the first-seen minute, the face in the crop's minute.
    expect(minute).toEqual([
      { cameraId: 'x', bucketStart: T0, faces: 0, visitors: 1, male: 1, female: 0, unknown: 0 },
      { cameraId: 'x', bucketStart: T0 + MINUTE, faces: 1, visitors: 0, male: 0, female: 0, unknown: 0 },
    ]);
    expect(results[0]!.dwell).toEqual([{ cameraId: 'x', bucketStart: T0, tracks: 1, dwellMsSum: 60_000 }]);
  });

  it('gives identical buckets when every event and prediction is applied twice, shuffled', async () => {
    // 60 people over three cameras and three hours: stays of 2 s to 15 min, a third never classified,
    // some still in view, predictions inside each stay.
    const inputs = (prefix: string): Input[] => {
      const out: Input[] = [];
      for (let i = 0; i < 60; i++) {
        const cameraId = `${prefix}cam-${i % 3}`;
        const trackId = `t${i}`;
        const first = T0 + ((i * 7_919) % (3 * HOUR));
        const stay = 2_000 + ((i * 104_729) % (15 * MINUTE));
        const events = lifetime({ cameraId, trackId, firstSeenTs: first, lastSeenTs: first + stay, open: i % 7 === 0 });
        out.push(
          ...events.map((record) => ({
            kind: 'event' as const,
            record: { ...record, eventId: prefix + record.eventId },
          })),
        );
        const crops = i % 3 === 0 ? 0 : 1 + (i % 3);
        for (let k = 0; k < crops; k++) {
          const ts = first + Math.floor((stay * (k + 1)) / (crops + 1));
          out.push({
            kind: 'prediction',
            record: prediction(`${prefix}${trackId}-${k}`, cameraId, trackId, ts, i % 2 ? 0.8 : 0.2),
          });
        }
      }
      return out;
    };
    const clean = inputs('clean-');
    expect(await applyAll(store, clean, 16)).toEqual({ applied: clean.length, duplicates: 0, late: 0 });
    const twice = shuffled([...inputs('replay-'), ...inputs('replay-')], 7);
    expect(await applyAll(store, twice, 23)).toEqual({ applied: clean.length, duplicates: clean.length, late: 0 });

    const cams = (prefix: string) => [0, 1, 2].map((c) => `${prefix}cam-${c}`);
    const strip = (id: string) => id.replace(/^(clean|replay)-/, '');
    const want = await figures(store, cams('clean-'), strip);
    expect(await figures(store, cams('replay-'), strip)).toEqual(want);
    const [, hours] = want.stats;
    expect(hours!.reduce((n, r) => n + r.visitors, 0)).toBe(60);
    expect(hours!.reduce((n, r) => n + r.unknown, 0)).toBe(20);

    // The same events again under new ids (as if their ids had expired): nothing to count twice either,
    // because every field of a track event merges as min or max.
    const again = shuffled(
      clean.flatMap((x) => (x.kind === 'event' ? [x.record] : [])),
      11,
    ).map((record, i): Input => ({ kind: 'event', record: { ...record, eventId: `again-${i}` } }));
    expect((await applyAll(store, again, 50)).applied).toBe(again.length);
    expect(await figures(store, cams('clean-'), strip)).toEqual(want);
  });

  it('judges track events late against their own stream, by last sighting', async () => {
    const cam = 'late';
    // The predictions' stream is far ahead (its consumer caught up first): track events are not late for that.
    await store.applyPredictions([prediction('late-ahead', cam, 'other', T0 + 30 * HOUR, 0.9)]);
    const stay = lifetime({ cameraId: cam, trackId: 'long', firstSeenTs: T0, lastSeenTs: T0 + 20 * MINUTE });
    expect(await store.applyTrackEvents(stay)).toMatchObject({ applied: stay.length, late: 0 });
    // A heartbeat of someone who arrived two days ago is on time: lateness is judged by last sighting.
    const old = lifetime({
      cameraId: cam,
      trackId: 'stayer',
      firstSeenTs: T0 - 48 * HOUR,
      lastSeenTs: T0 + 25 * MINUTE,
      open: true,
    });
    expect(await store.applyTrackEvents(old.slice(-1))).toMatchObject({ applied: 1, late: 0 });
    // Far ahead on the track-event stream, then one from more than the allowed lateness behind: late, not counted.
    const ahead = lifetime({
      cameraId: cam,
      trackId: 'ahead',
      firstSeenTs: T0 + 26 * HOUR,
      lastSeenTs: T0 + 26 * HOUR,
    });
    await store.applyTrackEvents(ahead);
    const before = await store.queryStats({ cameraIds: [cam], from: T0 - HOUR, to: T0 + HOUR, bucket: 'hour' });
    const behind = lifetime({
      cameraId: cam,
      trackId: 'behind',
      firstSeenTs: T0 + MINUTE,
      lastSeenTs: T0 + 2 * MINUTE,
    });
    expect(await store.applyTrackEvents(behind)).toMatchObject({ applied: 0, late: behind.length });
    expect(await store.queryStats({ cameraIds: [cam], from: T0 - HOUR, to: T0 + HOUR, bucket: 'hour' })).toEqual(
      before,
    );
    expect(await store.lateEvents([cam])).toBe(behind.length);
  });

  it('keeps a track last seen after the retention cut, even if first seen before it', async () => {
    const cam = 'retention';
    await store.applyTrackEvents([
      ...lifetime({ cameraId: cam, trackId: 'gone', firstSeenTs: T0 - 10 * HOUR, lastSeenTs: T0 - 9 * HOUR }),
      ...lifetime({ cameraId: cam, trackId: 'stays', firstSeenTs: T0 - 10 * HOUR, lastSeenTs: T0 + HOUR }),
    ]);
    const result = await store.applyRetention(T0);
    expect(result.tracks).toBeGreaterThanOrEqual(1);
    const left = await driver.all<{ track_id: string }>(`SELECT track_id FROM tracks WHERE camera_id = ?`, [cam]);
    expect(left.map((r) => r.track_id)).toEqual(['stays']);
  });
});

describe('migration v2 on a v1 database (SQLite)', () => {
  it('keeps v1 tracks valid: predictions-only, not ended, and track events extend them', async () => {
    const driver = new SqliteDriver(':memory:');
    await driver.exec(
      `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
    );
    for (const statement of MIGRATIONS[0]!.statements) await driver.exec(statement);
    await driver.run(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'aggregates', 0)`);
    const v1 = new SqlAggregateStore(driver, OPTIONS);
    // Written by v1 code paths only (the prediction path's columns exist in v1).
    await driver.run(
      `INSERT INTO tracks (camera_id, track_id, first_ts, last_ts, crops, sum_prob_male, vote) VALUES ('c', 't', ?, ?, 2, 1.8, 'male')`,
      [T0, T0 + 2_000],
    );
    await driver.run(
      `INSERT INTO buckets (camera_id, size, bucket_start, faces, visitors, male) VALUES ('c', 'hour', ?, 2, 1, 1)`,
      [T0],
    );
    await v1.migrate();
    const [row] = await driver.all<Record<string, unknown>>(
      `SELECT frames, largest_face_px, ended, end_reason, unit FROM tracks`,
    );
    expect(row).toEqual({ frames: 0, largest_face_px: 0, ended: 0, end_reason: null, unit: null });
    await v1.applyTrackEvents(lifetime({ cameraId: 'c', trackId: 't', firstSeenTs: T0, lastSeenTs: T0 + 90_000 }));
    const query: StatsQuery = { cameraIds: ['c'], from: T0, to: T0 + HOUR, bucket: 'hour' };
    expect(await v1.queryStats(query)).toEqual([
      { cameraId: 'c', bucketStart: T0, faces: 2, visitors: 1, male: 1, female: 0, unknown: 0 },
    ]);
    expect(await v1.dwellByBucket(query)).toEqual([{ cameraId: 'c', bucketStart: T0, tracks: 1, dwellMsSum: 90_000 }]);
    await v1.close();
  });
});
