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
const stay = (name: string, enteredTs: number, exitedTs: number | null) =>
  ({ cameraId: 'door-cam', name, enteredTs, exitedTs }) as const;
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
      { ...stay('till', T0 + 1000, T0 + 61_000), vote: 'female', track: { lastSeenTs: T0, ended: false } },
      // p2's face, classified at T0 + 25 s, is their last sighting.
      { ...stay('till', T0 + 2000, T0 + 4000), vote: 'male', track: { lastSeenTs: T0 + 25_000, ended: false } },
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

  it('expires crossings and visits with the track records, keeping their hourly counts', async () => {
    const hourly = await s.lineZones.crossings({ from: T0, to: T0 + HOUR }, HOUR);
    const result = await s.lineZones.applyRetention(T0 + 5 * MINUTE);
    // Every crossing (all in the first 2 minutes); the two finished stays and the silent one that entered at T0 + 1 min.
    expect(result).toEqual({ crossings: 4, visits: 3 });
    expect(await s.lineZones.crossings({ from: T0, to: T0 + HOUR }, MINUTE)).toEqual([]);
    expect(await s.lineZones.crossings({ from: T0, to: T0 + HOUR }, HOUR)).toEqual(hourly);
    expect(await s.lineZones.occupancy(undefined, T0 + 9 * MINUTE)).toEqual([
      { cameraId: 'door-cam', name: 'till', inside: 1 },
    ]);
  });
});

describe.each(BACKENDS)('line and zone rollups past retention on $name', (backend) => {
  let s: Opened;
  const T1 = Date.UTC(2026, 0, 6, 10, 0, 0);
  const at = (trackId: string, first: number, last: number, ended = true) =>
    toRecord(
      trackEvent(ended ? 'ended' : 'heartbeat', {
        cameraId: 'fold-cam',
        trackId,
        firstSeenTs: first,
        lastSeenTs: last,
        seq: 1,
      }),
    );
  const cross = (id: string, trackId: string, ts: number, direction: 'in' | 'out') => ({
    ...crossing(id, trackId, ts, direction, 'fold-cam'),
  });
  const visit = (trackId: string, enteredTs: number, exitedTs: number | null): LineZoneRecord[] => [
    { kind: 'zone-entered', cameraId: 'fold-cam', trackId, name: 'shelf', ts: enteredTs },
    ...(exitedTs === null
      ? []
      : [{ kind: 'zone-exited', cameraId: 'fold-cam', trackId, name: 'shelf', enteredTs, ts: exitedTs } as const]),
  ];
  const visitsNow = () => s.lineZones.zoneVisits({ cameraIds: ['fold-cam'], from: T1 - HOUR, to: T1 + 4 * HOUR });
  const crossingsBy = (bucketMs: number) =>
    s.lineZones.crossings({ cameraIds: ['fold-cam'], from: T1 - HOUR, to: T1 + 4 * HOUR }, bucketMs);

  beforeAll(async () => {
    s = await backend.open();
    // f voted female, m male, u never classified; 'lost' entered the shelf and its exit never came:
    // its track was last seen 2 h 10 min later.
    await s.tracks.applyTrackEvents([
      at('f', T1, T1 + 20 * MINUTE),
      at('m', T1 + 30 * MINUTE, T1 + 80 * MINUTE),
      at('u', T1 + 40 * MINUTE, T1 + 50 * MINUTE),
      at('lost', T1 + 5 * MINUTE, T1 + 135 * MINUTE, false),
    ]);
    await s.tracks.applyPredictions([
      { predictionId: 'fold-f', cameraId: 'fold-cam', trackId: 'f', frameTs: T1 + MINUTE, probMale: 0.1 },
      { predictionId: 'fold-m', cameraId: 'fold-cam', trackId: 'm', frameTs: T1 + 31 * MINUTE, probMale: 0.9 },
    ]);
    await s.lineZones.apply([
      cross('fold-1', 'f', T1 + 2 * MINUTE, 'in'),
      cross('fold-2', 'm', T1 + 32 * MINUTE, 'in'),
      cross('fold-3', 'u', T1 + 41 * MINUTE, 'in'),
      cross('fold-4', 'f', T1 + 19 * MINUTE, 'out'),
      cross('fold-5', 'm', T1 + 79 * MINUTE, 'out'), // the next hour
      ...visit('f', T1 + 3 * MINUTE, T1 + 13 * MINUTE),
      ...visit('m', T1 + 35 * MINUTE, T1 + 75 * MINUTE), // spans two hours
      ...visit('lost', T1 + 6 * MINUTE, null),
    ]);
  }, 120_000);

  afterAll(async () => {
    await s?.dispose();
  });

  it('folds crossings and visits into hourly rollups with their votes, and answers hours and days as before', async () => {
    const hoursBefore = await crossingsBy(HOUR);
    const daysBefore = await crossingsBy(24 * HOUR);
    const zonesBefore = await s.lineZones.zoneRollups({ cameraIds: ['fold-cam'], from: T1, to: T1 + HOUR }, HOUR);
    expect(zonesBefore).toEqual({ entries: [], occupancy: [] }); // nothing rolled up yet
    expect(hoursBefore.map((r) => `${(r.bucketStart - T1) / HOUR}:${r.direction}:${r.vote}:${r.count}`)).toEqual([
      '0:in:female:1',
      '0:in:male:1',
      '0:in:unknown:1',
      '0:out:female:1',
      '1:out:male:1',
    ]);

    // Past the first hour only: the crossing at 1 h 19 min stays raw, and so do m's stay (left at 1 h 15)
    // and the open one (no exit: entered at 6 min, so it goes).
    const before = T1 + 70 * MINUTE;
    expect(await s.lineZones.applyRetention(before)).toEqual({ crossings: 4, visits: 2 });
    // Then the track records go, as RetentionService does next: the votes must already be in the rollups.
    await s.tracks.applyRetention(before);

    expect(await crossingsBy(HOUR)).toEqual(hoursBefore);
    expect(await crossingsBy(24 * HOUR)).toEqual(daysBefore);
    // Minutes are not kept past retention: only the crossing still raw.
    expect(await crossingsBy(MINUTE)).toEqual([
      { cameraId: 'fold-cam', name: 'door', direction: 'out', bucketStart: T1 + 79 * MINUTE, vote: 'male', count: 1 },
    ]);
    expect((await visitsNow()).map((v) => v.enteredTs - T1)).toEqual([35 * MINUTE]);

    const hourly = await s.lineZones.zoneRollups({ cameraIds: ['fold-cam'], from: T1, to: T1 + 4 * HOUR }, HOUR);
    expect(hourly.entries).toEqual([
      {
        cameraId: 'fold-cam',
        name: 'shelf',
        bucketStart: T1,
        vote: 'female',
        entries: 1,
        dwellMs: 10 * MINUTE,
        stays: 1,
      },
      // The lost stay has no exit, so no dwell; its person was never classified.
      { cameraId: 'fold-cam', name: 'shelf', bucketStart: T1, vote: 'unknown', entries: 1, dwellMs: 0, stays: 0 },
    ]);
    // The lost stay is inside from 6 min to its track's last sighting (2 h 15 min): hours 0, 1 and 2.
    expect(hourly.occupancy.map((r) => `${(r.bucketStart - T1) / HOUR}:${r.inside}`)).toEqual(['0:2', '1:1', '2:1']);
    const daily = await s.lineZones.zoneRollups({ from: T1 - 10 * HOUR, to: T1 + 14 * HOUR }, 24 * HOUR);
    expect(daily.occupancy).toEqual([{ cameraId: 'fold-cam', name: 'shelf', bucketStart: T1 - 10 * HOUR, inside: 2 }]);
    expect(await s.lineZones.zoneRollups({ from: T1, to: T1 + HOUR }, MINUTE)).toEqual({ entries: [], occupancy: [] });

    // The rest, a second run: the bucket at the boundary adds up, raw part and rolled-up part.
    expect(await s.lineZones.applyRetention(T1 + 3 * HOUR)).toEqual({ crossings: 1, visits: 1 });
    expect(await visitsNow()).toEqual([]);
    expect(await crossingsBy(HOUR)).toEqual(hoursBefore);
    const folded = await s.lineZones.zoneRollups({ cameraIds: ['fold-cam'], from: T1, to: T1 + 4 * HOUR }, HOUR);
    expect(folded.occupancy.map((r) => `${(r.bucketStart - T1) / HOUR}:${r.inside}`)).toEqual(['0:3', '1:2', '2:1']);
    expect(folded.entries.map((r) => `${r.vote}:${r.entries}:${r.stays}:${r.dwellMs / MINUTE}`)).toEqual([
      'female:1:1:10',
      'male:1:1:40',
      'unknown:1:0:0',
    ]);
  });
});
