/**
 * Hour and day buckets in each store's own time zone, over a real SQLite and a real PostgreSQL:
 * a store in Asia/Kolkata (+05:30) and one in Europe/Paris across its 23-hour DST day, read
 * through StatsService the way the API reads them. UTC cameras keep the store's UTC rollups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryBus } from '@crowdlens/bus';
import { parseConfig, type AppConfig } from '@crowdlens/config';
import {
  PostgresDriver,
  SqlAggregateStore,
  SqliteDriver,
  type PredictionRecord,
  type SqlDriver,
} from '@crowdlens/storage';
import { CameraRegistry } from '../../apps/analytics/src/services/camera-registry.service';
import { StatsService } from '../../apps/analytics/src/services/stats.service';
import { meanVoter } from '../factories/voter.factory';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const utc = (d: string): number => Date.parse(`${d}Z`);
const iso = (ms: number): string => new Date(ms).toISOString();

const config: AppConfig = parseConfig({
  cameras: [
    { id: 'blr', url: 'assets/sample.mp4', group: 'bangalore' },
    { id: 'par', url: 'assets/sample.mp4', group: 'paris' },
    { id: 'lon', url: 'assets/sample.mp4' },
  ],
  groups: { bangalore: { timeZone: 'Asia/Kolkata' }, paris: { timeZone: 'Europe/Paris' } },
  analytics: { kAnonymity: 1 },
});

/** People first seen at these UTC instants, each with two crops 10 s apart: a man, 10 s of dwell. */
const PEOPLE: [camera: string, firstSeen: string][] = [
  // Bangalore: 10:05, 10:20 and 10:50 IST (UTC hours 04 and 05), then 23:50 IST and 00:10 IST (one UTC day).
  ['blr', '2026-01-05T04:35:00'],
  ['blr', '2026-01-05T04:50:00'],
  ['blr', '2026-01-05T05:20:00'],
  ['blr', '2026-01-05T18:20:00'],
  ['blr', '2026-01-05T18:40:00'],
  // Paris: 23:30 on 28 March, then 00:30 and 23:30 on 29 March, the day clocks skip 02:00–03:00.
  ['par', '2026-03-28T22:30:00'],
  ['par', '2026-03-28T23:30:00'],
  ['par', '2026-03-29T21:30:00'],
  // London, no group: the default zone, UTC.
  ['lon', '2026-01-05T23:30:00'],
  ['lon', '2026-01-06T00:30:00'],
];

function predictions(): PredictionRecord[] {
  return PEOPLE.flatMap(([cameraId, at], i) =>
    [0, 10_000].map((dt, c) => ({
      predictionId: `p-${i}-${c}`,
      cameraId,
      trackId: `t-${i}`,
      frameTs: utc(at) + dt,
      probMale: 0.9,
    })),
  );
}

const range = (cameraIds: string[], from: string, to: string, bucket: 'minute' | 'hour' | 'day') => ({
  cameraIds,
  groups: [],
  from: utc(from),
  to: utc(to),
  bucket,
});

function suite(name: string, open: () => Promise<{ driver: SqlDriver; done: () => Promise<void> }>): void {
  describe(`local time buckets on ${name}`, () => {
    let store: SqlAggregateStore;
    let stats: StatsService;
    let done: () => Promise<void> = async () => undefined;

    beforeAll(async () => {
      const opened = await open();
      done = opened.done;
      store = new SqlAggregateStore(opened.driver, { voter: meanVoter(1), allowedLatenessMs: 365 * DAY });
      await store.migrate();
      await store.applyPredictions(predictions());
      const cameras = new CameraRegistry(config, new InMemoryBus({ queueCapacity: 16 }));
      stats = new StatsService(store, config, cameras);
    });

    afterAll(async () => {
      await store?.close();
      await done();
    });

    it('buckets a +05:30 store by its own days: 23:50 and 00:10 IST are two days, not one UTC day', async () => {
      const result = await stats.stats(range(['blr'], '2026-01-04T00:00:00', '2026-01-07T00:00:00', 'day'));
      expect(result.series.map((r) => [iso(r.bucketStart), r.visitors])).toEqual([
        ['2026-01-04T18:30:00.000Z', 4],
        ['2026-01-05T18:30:00.000Z', 1],
      ]);
      expect(result.totals.visitors).toBe(5);
    });

    it("gives a +05:30 store's hours from the half hour, and its peak hour is 10:00 local", async () => {
      const hours = await stats.stats(range(['blr'], '2026-01-05T00:00:00', '2026-01-06T00:00:00', 'hour'));
      expect(hours.series.map((r) => [iso(r.bucketStart), r.visitors])).toEqual([
        ['2026-01-05T04:30:00.000Z', 3],
        ['2026-01-05T17:30:00.000Z', 1],
        ['2026-01-05T18:30:00.000Z', 1],
      ]);
      for (const tz of [undefined, 'Asia/Kolkata']) {
        const peak = await stats.peakHours({
          cameraIds: ['blr'],
          groups: [],
          from: utc('2026-01-05T00:00:00'),
          to: utc('2026-01-06T00:00:00'),
          tz,
        });
        expect(peak.tz).toBe('Asia/Kolkata');
        expect(peak.hours[0]).toEqual({ hour: 10, visitors: 3, avgVisitorsPerDay: 3 });
        expect(peak.hours.map((h) => h.hour).sort((a, b) => a - b)).toEqual([0, 10, 23]);
      }
    });

    it('gives a DST day in Paris its 23 hours and each person the local day they came on', async () => {
      const days = await stats.stats(range(['par'], '2026-03-27T00:00:00', '2026-03-31T00:00:00', 'day'));
      expect(days.series.map((r) => [iso(r.bucketStart), r.visitors])).toEqual([
        ['2026-03-27T23:00:00.000Z', 1],
        ['2026-03-28T23:00:00.000Z', 2],
      ]);
      const peak = await stats.peakHours({
        cameraIds: ['par'],
        groups: [],
        from: utc('2026-03-28T00:00:00'),
        to: utc('2026-03-30T00:00:00'),
        tz: undefined,
      });
      expect(peak.hours.map((h) => [h.hour, h.visitors]).sort((a, b) => a[0]! - b[0]!)).toEqual([
        [0, 1],
        [23, 2],
      ]);
    });

    it("keeps a UTC camera's days exactly the store's UTC day rollups", async () => {
      const days = await stats.stats(range(['lon'], '2026-01-05T00:00:00', '2026-01-07T00:00:00', 'day'));
      const stored = await store.queryStats({
        cameraIds: ['lon'],
        from: utc('2026-01-05T00:00:00'),
        to: utc('2026-01-07T00:00:00'),
        bucket: 'day',
      });
      expect(days.series.map((r) => [r.bucketStart, r.visitors])).toEqual(
        stored.map((r) => [r.bucketStart, r.visitors]),
      );
      expect(stored.map((r) => r.visitors)).toEqual([1, 1]);
    });

    it("compares stores over their local days with their people's dwell", async () => {
      const result = await stats.groups({
        cameraIds: [],
        groups: ['bangalore'],
        from: utc('2026-01-04T18:30:00'),
        to: utc('2026-01-06T18:30:00'),
        bucket: 'day',
      });
      expect(result.groups).toHaveLength(1);
      expect(result.groups[0]).toMatchObject({ label: 'bangalore', visitors: 5, meanDwellMs: 10_000 });
    });

    it('loses nobody once the minutes of a +05:30 store have expired (retention keeps hours only)', async () => {
      await store.applyRetention(utc('2026-02-01T00:00:00'));
      const q = range(['blr'], '2026-01-04T00:00:00', '2026-01-07T00:00:00', 'hour');
      const hours = await stats.stats(q);
      expect(hours.totals.visitors).toBe(5);
      const days = await stats.stats({ ...q, bucket: 'day' });
      expect(days.totals.visitors).toBe(5);
    });
  });
}

suite('SQLite', async () => ({ driver: new SqliteDriver(':memory:'), done: async () => undefined }));

let pg: TestDatabase | undefined;
suite('PostgreSQL', async () => {
  pg = await createTestDatabase('local_time');
  return { driver: new PostgresDriver({ url: pg.url }), done: () => pg!.drop() };
});
