/**
 * SqlAggregateStore over a real PostgreSQL (deploy/postgres): the same query
 * layer and SQL as SQLite, so the same data must give the same answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PostgresDriver,
  SqlAggregateStore,
  SqliteDriver,
  type PredictionRecord,
  type StatsQuery,
} from '@crowdlens/storage';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

/** Deterministic mixed traffic: 3 cameras, tracks with 1-5 crops, a few hours, clear and unsure voters. */
function traffic(count: number): PredictionRecord[] {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const out: PredictionRecord[] = [];
  let track = 0;
  while (out.length < count) {
    const cameraId = `cam-${1 + Math.floor(rand() * 3)}`;
    const trackId = `t-${track++}`;
    const crops = 1 + Math.floor(rand() * 5);
    const start = T0 + Math.floor(rand() * 3 * 3_600_000);
    const lean = rand();
    for (let k = 0; k < crops && out.length < count; k++) {
      out.push({
        predictionId: `${trackId}-${k}`,
        cameraId,
        trackId,
        frameTs: start + k * 1_700,
        probMale: Math.min(1, Math.max(0, lean + (rand() - 0.5) * 0.2)),
      });
    }
  }
  return out;
}

describe('SqlAggregateStore on PostgreSQL', () => {
  let db: TestDatabase;
  let store: SqlAggregateStore;
  let driver: PostgresDriver;

  beforeAll(async () => {
    db = await createTestDatabase('store');
    driver = new PostgresDriver({ url: db.url });
    store = new SqlAggregateStore(driver);
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('migrates, and migrating again changes nothing', async () => {
    await store.migrate();
    await store.migrate();
    const rows = await driver.all<{ version: number; n: number }>(
      `SELECT version, COUNT(*) AS n FROM schema_migrations GROUP BY version ORDER BY version`,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    const tables = await driver.all<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['applied_predictions', 'face_buckets', 'schema_migrations', 'tracks']),
    );
  });

  it('dedupes a replayed batch: duplicates counted, totals unchanged', async () => {
    const batch = traffic(300).map((r) => ({ ...r, predictionId: `replay-${r.predictionId}`, cameraId: `replay-${r.cameraId}` }));
    const query: StatsQuery = {
      cameraIds: ['replay-cam-1', 'replay-cam-2', 'replay-cam-3'],
      from: T0,
      to: T0 + 86_400_000,
      bucket: 'day',
      vote: { minEvidence: 2, minMargin: 0.1 },
    };
    expect(await store.applyPredictions(batch)).toEqual({ applied: 300, duplicates: 0 });
    const before = await store.queryStats(query);
    expect(before.reduce((s, r) => s + r.faces, 0)).toBe(300);

    expect(await store.applyPredictions(batch)).toEqual({ applied: 0, duplicates: 300 });
    // Half old, half new: only the new half counts.
    const fresh = batch.slice(0, 50).map((r) => ({ ...r, predictionId: `${r.predictionId}-again` }));
    expect(await store.applyPredictions([...batch.slice(100, 150), ...fresh])).toEqual({ applied: 50, duplicates: 50 });
    const after = await store.queryStats(query);
    expect(after.reduce((s, r) => s + r.faces, 0)).toBe(350);
    expect(after.reduce((s, r) => s + r.visitors, 0)).toBe(before.reduce((s, r) => s + r.visitors, 0));
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
      await tx.transaction(async (inner) => {
        await inner.run(`INSERT INTO tx_probe (id, note) VALUES (?, ?)`, ['c', null]);
        throw new Error('inner');
      }).catch(() => undefined);
      const changed = await tx.run(`UPDATE tx_probe SET note = ? WHERE id = ?`, ['x', 'b']);
      expect(changed.changes).toBe(1);
    });
    expect(await driver.all(`SELECT id, note FROM tx_probe ORDER BY id`)).toEqual([{ id: 'b', note: 'x' }]);
  });

  it('answers queryStats exactly like SQLite for the same data', async () => {
    const data = traffic(1_500);
    // A database of its own: the other tests' rows must not show up in unfiltered queries.
    const own = await createTestDatabase('parity');
    const pgStore = new SqlAggregateStore(new PostgresDriver({ url: own.url }));
    const sqlite = new SqlAggregateStore(new SqliteDriver(':memory:'));
    await pgStore.migrate();
    await sqlite.migrate();
    try {
      // Same data, applied in different batch sizes: results must not depend on batching.
      for (let i = 0; i < data.length; i += 200) await pgStore.applyPredictions(data.slice(i, i + 200));
      for (let i = 0; i < data.length; i += 77) await sqlite.applyPredictions(data.slice(i, i + 77));

      const queries: StatsQuery[] = [
        { from: T0, to: T0 + 86_400_000, bucket: 'minute', vote: { minEvidence: 1, minMargin: 0 } },
        { from: T0, to: T0 + 86_400_000, bucket: 'hour', vote: { minEvidence: 2, minMargin: 0.1 } },
        { from: T0 - 86_400_000, to: T0 + 2 * 86_400_000, bucket: 'day', vote: { minEvidence: 3, minMargin: 0.2 } },
        { cameraIds: ['cam-2'], from: T0 + 1_800_000, to: T0 + 7_200_000, bucket: 'minute', vote: { minEvidence: 2, minMargin: 0.05 } },
        { cameraIds: ['cam-1', 'cam-3'], from: T0, to: T0 + 86_400_000, bucket: 'hour', vote: { minEvidence: 1, minMargin: 0.3 } },
      ];
      for (const q of queries) {
        const [pg, lite] = [await pgStore.queryStats(q), await sqlite.queryStats(q)];
        expect(lite.length).toBeGreaterThan(0);
        expect(pg).toEqual(lite);
      }
      const hourly = await pgStore.queryStats(queries[1]!);
      expect(hourly.reduce((s, r) => s + r.faces, 0)).toBe(1_500);
      expect(hourly.some((r) => r.male > 0) && hourly.some((r) => r.female > 0) && hourly.some((r) => r.unknown > 0)).toBe(true);
    } finally {
      await sqlite.close();
      await pgStore.close();
      await own.drop();
    }
  });
});
