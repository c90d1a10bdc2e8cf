import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlAggregateStore, SqliteDriver, type PredictionRecord } from '@crowdlens/storage';
import { voteTrack } from './track-vote';
import { totalsOf } from './stats.service';

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);
const policy = { minEvidence: 2, minMargin: 0.1 };

function rec(id: string, cameraId: string, trackId: string, offsetMs: number, probMale: number): PredictionRecord {
  return { predictionId: id, cameraId, trackId, frameTs: T0 + offsetMs, probMale };
}

describe('aggregation in SQLite', () => {
  let store: SqlAggregateStore;

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-agg-'));
    store = new SqlAggregateStore(new SqliteDriver(join(dir, 'agg.db')));
    await store.migrate();
    await store.migrate(); // idempotent
  });
  afterEach(() => store.close());

  it('counts unique people per first-seen minute by voted gender, and faces per minute', async () => {
    await store.applyPredictions([
      // a man seen across two minutes: counted once, in minute 0
      rec('a1', 'cam', 'man', 10_000, 0.9),
      rec('a2', 'cam', 'man', 50_000, 0.8),
      rec('a3', 'cam', 'man', 70_000, 0.85),
      // a woman in minute 1
      rec('b1', 'cam', 'woman', 65_000, 0.1),
      rec('b2', 'cam', 'woman', 66_000, 0.2),
      // a single crop: not enough evidence -> unknown
      rec('c1', 'cam', 'once', 67_000, 0.99),
      // another camera
      rec('d1', 'cam2', 'x', 5_000, 0.05),
      rec('d2', 'cam2', 'x', 6_000, 0.1),
    ]);
    const rows = await store.queryStats({ from: T0, to: T0 + 3_600_000, bucket: 'minute', vote: policy });
    expect(rows).toEqual([
      { cameraId: 'cam', bucketStart: T0, faces: 2, visitors: 1, male: 1, female: 0, unknown: 0 },
      { cameraId: 'cam2', bucketStart: T0, faces: 2, visitors: 1, male: 0, female: 1, unknown: 0 },
      { cameraId: 'cam', bucketStart: T0 + 60_000, faces: 4, visitors: 2, male: 0, female: 1, unknown: 1 },
    ]);
    const hourly = await store.queryStats({ cameraIds: ['cam'], from: T0, to: T0 + 3_600_000, bucket: 'hour', vote: policy });
    expect(hourly).toEqual([{ cameraId: 'cam', bucketStart: T0, faces: 6, visitors: 3, male: 1, female: 1, unknown: 1 }]);
    expect(totalsOf(rows)).toMatchObject({ visitors: 4, male: 1, female: 2, unknown: 1, faces: 8, maleShare: 1 / 3 });
  });

  it('a replayed batch changes nothing: prediction ids are remembered', async () => {
    const batch = [rec('p1', 'cam', 't', 1_000, 0.9), rec('p2', 'cam', 't', 2_000, 0.9)];
    expect(await store.applyPredictions(batch)).toEqual({ applied: 2, duplicates: 0 });
    const before = await store.queryStats({ from: T0, to: T0 + 60_000, bucket: 'minute', vote: policy });
    expect(await store.applyPredictions(batch)).toEqual({ applied: 0, duplicates: 2 });
    expect(await store.applyPredictions([batch[1]!, rec('p3', 'cam', 't', 3_000, 0.9)])).toEqual({
      applied: 1,
      duplicates: 1,
    });
    const after = await store.queryStats({ from: T0, to: T0 + 60_000, bucket: 'minute', vote: policy });
    expect(before[0]).toMatchObject({ faces: 2, visitors: 1 });
    expect(after[0]).toMatchObject({ faces: 3, visitors: 1, male: 1 });
  });

  it('the SQL vote agrees with voteTrack on every track', async () => {
    const tracks: { id: string; probs: number[] }[] = [];
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let t = 0; t < 60; t++) {
      tracks.push({ id: `t${t}`, probs: Array.from({ length: 1 + (t % 4) }, () => rnd()) });
    }
    const records = tracks.flatMap((t) => t.probs.map((p, i) => rec(`${t.id}-${i}`, 'cam', t.id, 0, p)));
    await store.applyPredictions(records);
    const [row] = await store.queryStats({ from: T0, to: T0 + 60_000, bucket: 'minute', vote: policy });
    const expected = { male: 0, female: 0, unknown: 0 };
    for (const t of tracks) expected[voteTrack(t.probs.length, t.probs.reduce((a, b) => a + b, 0), policy)]++;
    expect(row).toMatchObject(expected);
  });
});
