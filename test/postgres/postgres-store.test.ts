/**
 * SqlAggregateStore over a real PostgreSQL (deploy/postgres): the same query
 * layer and SQL as SQLite, so the same data must give the same answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LINE_ZONE_MIGRATIONS,
  MIGRATIONS,
  PostgresDriver,
  SqlAggregateStore,
  SqlLineZoneStore,
  SqliteDriver,
  type PredictionRecord,
  type SqlAggregateStoreOptions,
  type StatsQuery,
  type StatsRow,
} from '@crowdlens/storage';
import { ALERT_OUTBOX_MIGRATIONS, SqlAlertOutbox } from '../../apps/analytics/src/alerts/adapters/sql-alert-outbox';
import { meanVoter } from '../factories/voter.factory';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const HOUR = 3_600_000;

/** Two crops of evidence and a clear lean, else unknown: enough to get all three outcomes. */
const voter = meanVoter(2);
const OPTIONS: SqlAggregateStoreOptions = { voter, allowedLatenessMs: 24 * HOUR };

/** Deterministic mixed traffic: 3 cameras, tracks of 1-5 crops spread over 3 hours, clear and unsure voters. */
function traffic(count: number, prefix = ''): PredictionRecord[] {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const out: PredictionRecord[] = [];
  let track = 0;
  while (out.length < count) {
    const cameraId = `${prefix}cam-${1 + Math.floor(rand() * 3)}`;
    const trackId = `t-${track++}`;
    const crops = 1 + Math.floor(rand() * 5);
    const start = T0 + Math.floor(rand() * 3 * HOUR);
    const lean = rand();
    for (let k = 0; k < crops && out.length < count; k++) {
      out.push({
        predictionId: `${prefix}${trackId}-${k}`,
        cameraId,
        trackId,
        frameTs: start + k * 1_700,
        probMale: Math.min(1, Math.max(0, lean + (rand() - 0.5) * 0.2)),
      });
    }
  }
  return out;
}

type Count = 'faces' | 'visitors' | 'male' | 'female' | 'unknown';
const sum = (rows: readonly StatsRow[], key: Count): number => rows.reduce((s, r) => s + r[key], 0);

describe('SqlAggregateStore on PostgreSQL', () => {
  let db: TestDatabase;
  let store: SqlAggregateStore;
  let driver: PostgresDriver;

  beforeAll(async () => {
    db = await createTestDatabase('store');
    driver = new PostgresDriver({ url: db.url });
    store = new SqlAggregateStore(driver, OPTIONS);
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('migrates, and migrating again changes nothing', async () => {
    const tables = () =>
      driver.all<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
      );
    await store.migrate();
    const once = await tables();
    await store.migrate();
    expect(await tables()).toEqual(once);
    expect(once.map((t) => t.table_name)).toEqual(expect.arrayContaining(['schema_migrations', 'applied_predictions']));
    const versions = await driver.all<{ version: number }>(`SELECT version FROM schema_migrations ORDER BY version`);
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('migrates once when several replicas start together on a fresh database', async () => {
    const fresh = await createTestDatabase('migrate_race');
    const drivers = Array.from({ length: 4 }, () => new PostgresDriver({ url: fresh.url }));
    try {
      // Each replica runs every migration list analytics has, all at once, as replicas starting together do.
      await Promise.all(
        drivers.map(async (d) => {
          await new SqlAggregateStore(d, OPTIONS).migrate();
          await new SqlLineZoneStore(d).migrate();
          await new SqlAlertOutbox(d).migrate();
        }),
      );
      const versions = await drivers[0]!.all<{ version: number }>(
        `SELECT version FROM schema_migrations ORDER BY version`,
      );
      expect(versions.map((v) => v.version)).toEqual(
        [...MIGRATIONS, ...LINE_ZONE_MIGRATIONS, ...ALERT_OUTBOX_MIGRATIONS].map((m) => m.version),
      );
    } finally {
      await Promise.all(drivers.map((d) => d.close()));
      await fresh.drop();
    }
  });

  it('dedupes a replayed batch: duplicates counted, totals unchanged', async () => {
    const batch = traffic(300, 'replay-');
    const query: StatsQuery = {
      cameraIds: ['replay-cam-1', 'replay-cam-2', 'replay-cam-3'],
      from: T0,
      to: T0 + 24 * HOUR,
      bucket: 'day',
    };
    expect(await store.applyPredictions(batch)).toEqual({ applied: 300, duplicates: 0, late: 0 });
    const before = await store.queryStats(query);
    expect(sum(before, 'faces')).toBe(300);
    expect(sum(before, 'visitors')).toBeGreaterThan(0);

    expect(await store.applyPredictions(batch)).toEqual({ applied: 0, duplicates: 300, late: 0 });
    expect(await store.queryStats(query)).toEqual(before);

    // Half old, half new: only the new half counts.
    const fresh = batch.slice(0, 50).map((r) => ({ ...r, predictionId: `${r.predictionId}-again` }));
    expect(await store.applyPredictions([...batch.slice(100, 150), ...fresh])).toMatchObject({
      applied: 50,
      duplicates: 50,
    });
    const after = await store.queryStats(query);
    expect(sum(after, 'faces')).toBe(350);
    // Same tracks seen again: more evidence, not more people.
    expect(sum(after, 'visitors')).toBe(sum(before, 'visitors'));
  });

  it('rolls back a failed transaction and keeps savepoint work apart', async () => {
    await driver.exec(`CREATE TABLE tx_probe (id TEXT PRIMARY KEY, note TEXT)`);
    await expect(
      driver.transaction(async (tx) => {
        await tx.run(`INSERT INTO tx_probe (id, note) VALUES (?, ?)`, ['a', 'what?']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await driver.all(`SELECT id FROM tx_probe`)).toEqual([]);

    await driver.transaction(async (tx) => {
      await tx.run(`INSERT INTO tx_probe (id, note) VALUES (?, '?')`, ['b']);
      await tx
        .transaction(async (inner) => {
          await inner.run(`INSERT INTO tx_probe (id, note) VALUES (?, ?)`, ['c', null]);
          throw new Error('inner');
        })
        .catch(() => undefined);
      const changed = await tx.run(`UPDATE tx_probe SET note = ? WHERE id = ?`, ['x', 'b']);
      expect(changed.changes).toBe(1);
    });
    expect(await driver.all(`SELECT id, note FROM tx_probe ORDER BY id`)).toEqual([{ id: 'b', note: 'x' }]);
    // BIGINT results come back as numbers, as from SQLite, not as pg's strings.
    expect(await driver.all(`SELECT COUNT(*) AS n, CAST(? AS BIGINT) AS big FROM tx_probe`, [2 ** 40])).toEqual([
      { n: 1, big: 2 ** 40 },
    ]);
  });

  it('answers exactly like SQLite for the same data', async () => {
    const data = traffic(1_500);
    // A database of its own: the other tests' rows must not show up in unfiltered queries.
    const own = await createTestDatabase('parity');
    // Tight lateness, so the late-event path runs too (arrival order is the same on both).
    const options: SqlAggregateStoreOptions = { voter, allowedLatenessMs: 2 * HOUR };
    const pg = new SqlAggregateStore(new PostgresDriver({ url: own.url }), options);
    const lite = new SqlAggregateStore(new SqliteDriver(':memory:'), options);
    await pg.migrate();
    await lite.migrate();
    try {
      // Same data in different batch sizes: results must not depend on batching.
      const applied = { pg: { applied: 0, duplicates: 0, late: 0 }, lite: { applied: 0, duplicates: 0, late: 0 } };
      const add = (into: typeof applied.pg, r: typeof applied.pg) => {
        into.applied += r.applied;
        into.duplicates += r.duplicates;
        into.late += r.late;
      };
      for (let i = 0; i < data.length; i += 200) add(applied.pg, await pg.applyPredictions(data.slice(i, i + 200)));
      for (let i = 0; i < data.length; i += 77) add(applied.lite, await lite.applyPredictions(data.slice(i, i + 77)));
      expect(applied.pg).toEqual(applied.lite);
      expect(applied.pg.applied + applied.pg.late).toBe(1_500);

      const queries: StatsQuery[] = [
        { from: T0, to: T0 + 24 * HOUR, bucket: 'minute' },
        { from: T0, to: T0 + 24 * HOUR, bucket: 'hour' },
        { from: T0 - 24 * HOUR, to: T0 + 48 * HOUR, bucket: 'day' },
        { cameraIds: ['cam-2'], from: T0 + HOUR / 2, to: T0 + 2 * HOUR, bucket: 'minute' },
        { cameraIds: ['cam-1', 'cam-3'], from: T0, to: T0 + 24 * HOUR, bucket: 'hour' },
      ];
      for (const q of queries) {
        const fromLite = await lite.queryStats(q);
        expect(fromLite.length).toBeGreaterThan(0);
        expect(await pg.queryStats(q)).toEqual(fromLite);
      }
      const hourly = await pg.queryStats(queries[1]!);
      expect(sum(hourly, 'faces')).toBe(applied.pg.applied);
      expect(sum(hourly, 'male') * sum(hourly, 'female') * sum(hourly, 'unknown')).toBeGreaterThan(0);

      const dwell = { from: T0, to: T0 + 24 * HOUR, edgesMs: [1_000, 3_000, 6_000] };
      expect(await pg.dwellHistogram(dwell)).toEqual(await lite.dwellHistogram(dwell));
      expect(await pg.lateEvents()).toBe(await lite.lateEvents());
      expect(await pg.lateEvents(['cam-1'])).toBe(await lite.lateEvents(['cam-1']));

      const cut = T0 + 90 * 60_000;
      expect(await pg.applyRetention(cut)).toEqual(await lite.applyRetention(cut));
      for (const q of queries) expect(await pg.queryStats(q)).toEqual(await lite.queryStats(q));
    } finally {
      await lite.close();
      await pg.close();
      await own.drop();
    }
  });
});
