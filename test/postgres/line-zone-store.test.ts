/**
 * Line crossings and zone visits in SqlLineZoneStore, on SQLite and on a real
 * PostgreSQL: each crossing counts once whatever is replayed, a crossing's
 * gender is its person's voted gender (decided before or after it crossed),
 * a zone visit is one row whatever order its entry and exit come in, and
 * occupancy now leaves out people whose track ended or went silent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PostgresDriver,
  SqlAggregateStore,
  SqliteDriver,
  SqlLineZoneStore,
  type LineZoneRecord,
  type SqlDriver,
} from '@crowdlens/storage';
import { meanVoter } from '../factories/voter.factory';
import { toRecord } from '../../apps/analytics/src/services/track-event-recorder.service';
import { trackEvent } from '../factories/track-event.factory';
import { createTestDatabase } from '../support/postgres';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTE = 60_000;
const HOUR = 3_600_000;

const crossing = (id: string, trackId: string, ts: number, direction: 'in' | 'out', cameraId = 'door-cam') =>
  ({ kind: 'line-crossed', eventId: id, cameraId, trackId, name: 'door', ts, direction }) satisfies LineZoneRecord;
const entered = (trackId: string, ts: number) =>
  ({ kind: 'zone-entered', cameraId: 'door-cam', trackId, name: 'till', ts }) satisfies LineZoneRecord;
const exited = (trackId: string, enteredTs: number, ts: number) =>
  ({ kind: 'zone-exited', cameraId: 'door-cam', trackId, name: 'till', enteredTs, ts }) satisfies LineZoneRecord;

interface Opened {
  readonly tracks: SqlAggregateStore;
  readonly lineZones: SqlLineZoneStore;
  dispose(): Promise<void>;
}

async function open(driver: SqlDriver, after: () => Promise<void> = async () => undefined): Promise<Opened> {
  const tracks = new SqlAggregateStore(driver, { voter: meanVoter(1), allowedLatenessMs: 24 * HOUR });
  await tracks.migrate();
  const lineZones = new SqlLineZoneStore(driver);
  await lineZones.migrate();
  await lineZones.migrate(); // a second start finds its migration applied
  return {
    tracks,
    lineZones,
    dispose: async () => {
      await tracks.close();
      await after();
    },
  };
}

const BACKENDS = [
  { name: 'SQLite', open: () => open(new SqliteDriver(':memory:')) },
  {
    name: 'PostgreSQL',
    open: async () => {
      const db = await createTestDatabase('linezones');
      return open(new PostgresDriver({ url: db.url }), () => db.drop());
    },
  },
];

describe.each(BACKENDS)('lines and zones on $name', (backend) => {
  let s: Opened;

  beforeAll(async () => {
    s = await backend.open();
    // Three people: p1 voted female, p2 male, p3 never classified (unknown).
    await s.tracks.applyTrackEvents(
      ['p1', 'p2', 'p3'].map((trackId) =>
        toRecord(trackEvent('started', { cameraId: 'door-cam', trackId, firstSeenTs: T0, lastSeenTs: T0, seq: 0 })),
      ),
    );
    await s.tracks.applyPredictions([
      { predictionId: 'f1', cameraId: 'door-cam', trackId: 'p1', frameTs: T0, probMale: 0.1 },
    ]);
  }, 120_000);

  afterAll(async () => {
    await s?.dispose();
  });

  it('counts each crossing once, by direction and bucket, under any replay', async () => {
    const records = [
      crossing('c1', 'p1', T0 + 10_000, 'in'),
      crossing('c2', 'p2', T0 + 20_000, 'in'),
      crossing('c3', 'p3', T0 + 30_000, 'in'),
      crossing('c4', 'p1', T0 + MINUTE + 5_000, 'out'),
    ];
    expect(await s.lineZones.apply(records)).toEqual({ applied: 4, duplicates: 0 });
    expect(await s.lineZones.apply([...records].reverse())).toEqual({ applied: 0, duplicates: 4 });
    const rows = await s.lineZones.crossings({ from: T0, to: T0 + HOUR }, MINUTE);
    // p2 has no classified face yet: unknown, with p3.
    expect(rows).toEqual([
      { cameraId: 'door-cam', name: 'door', direction: 'in', bucketStart: T0, vote: 'female', count: 1 },
      { cameraId: 'door-cam', name: 'door', direction: 'in', bucketStart: T0, vote: 'unknown', count: 2 },
      { cameraId: 'door-cam', name: 'door', direction: 'out', bucketStart: T0 + MINUTE, vote: 'female', count: 1 },
    ]);
    // p2's face is classified after they crossed: their crossing moves to male.
    await s.tracks.applyPredictions([
      { predictionId: 'm1', cameraId: 'door-cam', trackId: 'p2', frameTs: T0 + 25_000, probMale: 0.9 },
    ]);
    const hourly = await s.lineZones.crossings({ from: T0, to: T0 + HOUR }, HOUR);
    expect(hourly.map((r) => `${r.direction}:${r.vote}:${r.count}`).sort()).toEqual([
      'in:female:1',
      'in:male:1',
      'in:unknown:1',
      'out:female:1',
    ]);
    expect(await s.lineZones.crossings({ cameraIds: [], from: T0, to: T0 + HOUR }, HOUR)).toEqual([]);
    expect(await s.lineZones.crossings({ cameraIds: ['other'], from: T0, to: T0 + HOUR }, HOUR)).toEqual([]);
  });

  it('keeps one visit per stay whatever order its entry and exit arrive in, replayed or not', async () => {
    const stays = [entered('p1', T0 + 1000), exited('p1', T0 + 1000, T0 + 61_000), exited('p2', T0 + 2000, T0 + 4000)];
    await s.lineZones.apply(stays);
    await s.lineZones.apply([entered('p2', T0 + 2000), ...stays]); // p2's entry after its exit, and a replay
    const visits = await s.lineZones.zoneVisits({ from: T0, to: T0 + HOUR });
    expect(visits).toEqual([
      { cameraId: 'door-cam', name: 'till', enteredTs: T0 + 1000, exitedTs: T0 + 61_000, vote: 'female' },
      { cameraId: 'door-cam', name: 'till', enteredTs: T0 + 2000, exitedTs: T0 + 4000, vote: 'male' },
    ]);
  });

  it('counts in occupancy only the people still inside whose track lives', async () => {
    const now = T0 + 10 * MINUTE;
    await s.lineZones.apply([entered('p3', now - 5000)]); // inside, track row older but entered recently
    await s.lineZones.apply([
      { kind: 'zone-entered', cameraId: 'door-cam', trackId: 'gone', name: 'till', ts: now - 9 * MINUTE },
      { kind: 'zone-entered', cameraId: 'door-cam', trackId: 'ended', name: 'till', ts: now - 2000 },
    ]);
    await s.tracks.applyTrackEvents([
      toRecord(
        trackEvent('started', {
          cameraId: 'door-cam',
          trackId: 'gone',
          firstSeenTs: now - 9 * MINUTE,
          lastSeenTs: now - 9 * MINUTE,
          seq: 0,
        }),
      ),
      toRecord(
        trackEvent('ended', {
          cameraId: 'door-cam',
          trackId: 'ended',
          firstSeenTs: now - 3000,
          lastSeenTs: now - 1000,
          seq: 1,
        }),
      ),
    ]);
    expect(await s.lineZones.occupancy(undefined, now - MINUTE)).toEqual([
      { cameraId: 'door-cam', name: 'till', inside: 1 },
    ]);
    expect(await s.lineZones.occupancy(['elsewhere'], now - MINUTE)).toEqual([]);
    expect(await s.lineZones.zoneNames(T0)).toEqual([{ cameraId: 'door-cam', name: 'till' }]);
  });

  it('expires crossings and visits with the track records', async () => {
    const result = await s.lineZones.applyRetention(T0 + 5 * MINUTE);
    // Every crossing (all in the first 2 minutes); the two finished stays and the silent one that entered at T0 + 1 min.
    expect(result).toEqual({ crossings: 4, visits: 3 });
    expect(await s.lineZones.crossings({ from: T0, to: T0 + HOUR }, HOUR)).toEqual([]);
    expect(await s.lineZones.occupancy(undefined, T0 + 9 * MINUTE)).toEqual([
      { cameraId: 'door-cam', name: 'till', inside: 1 },
    ]);
  });
});
