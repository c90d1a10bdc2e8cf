import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlAggregateStore, SqliteDriver, type PredictionRecord } from '@crowdlens/storage';
import { voteTrack } from './track-vote';
import { totalsOf } from './stats.service';
import { suppressSmallBuckets } from './k-anonymity';

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);
const HOUR = 3_600_000;
const policy = { minEvidence: 2, minMargin: 0.1 };

function rec(id: string, cameraId: string, trackId: string, offsetMs: number, probMale: number): PredictionRecord {
  return { predictionId: id, cameraId, trackId, frameTs: T0 + offsetMs, probMale };
}

describe('aggregation in SQLite', () => {
  let store: SqlAggregateStore;

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-agg-'));
    store = new SqlAggregateStore(new SqliteDriver(join(dir, 'agg.db')), {
      voter: (crops, sum) => voteTrack(crops, sum, policy),
      allowedLatenessMs: 10 * 60_000,
    });
    await store.migrate();
    await store.migrate(); // idempotent
  });
  afterEach(() => store.close());

  it('counts unique people per first-seen minute by voted gender, faces per minute, rolled up to hours', async () => {
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
    const rows = await store.queryStats({ from: T0, to: T0 + HOUR, bucket: 'minute' });
    expect(rows).toEqual([
      { cameraId: 'cam', bucketStart: T0, faces: 2, visitors: 1, male: 1, female: 0, unknown: 0 },
      { cameraId: 'cam2', bucketStart: T0, faces: 2, visitors: 1, male: 0, female: 1, unknown: 0 },
      { cameraId: 'cam', bucketStart: T0 + 60_000, faces: 4, visitors: 2, male: 0, female: 1, unknown: 1 },
    ]);
    const hourly = await store.queryStats({ cameraIds: ['cam'], from: T0, to: T0 + HOUR, bucket: 'hour' });
    expect(hourly).toEqual([
      { cameraId: 'cam', bucketStart: T0, faces: 6, visitors: 3, male: 1, female: 1, unknown: 1 },
    ]);
    const daily = await store.queryStats({ from: T0, to: T0 + HOUR, bucket: 'day' });
    expect(daily.reduce((a, r) => a + r.visitors, 0)).toBe(4);
    expect(totalsOf(rows, 1)).toMatchObject({
      visitors: 4,
      male: 1,
      female: 2,
      unknown: 1,
      faces: 8,
      maleShare: 1 / 3,
    });
  });

  it('moves a person between genders as evidence arrives, never counting them twice', async () => {
    await store.applyPredictions([rec('1', 'cam', 't', 0, 0.9)]);
    expect((await store.queryStats({ from: T0, to: T0 + HOUR, bucket: 'minute' }))[0]).toMatchObject({
      visitors: 1,
      unknown: 1,
    });
    await store.applyPredictions([rec('2', 'cam', 't', 1_000, 0.9)]);
    expect((await store.queryStats({ from: T0, to: T0 + HOUR, bucket: 'minute' }))[0]).toMatchObject({
      visitors: 1,
      male: 1,
      unknown: 0,
    });
    // mean of 0.9, 0.9, 0, 0 is 0.45: within the margin, back to unknown
    await store.applyPredictions([rec('3', 'cam', 't', 2_000, 0.0), rec('4', 'cam', 't', 3_000, 0.0)]);
    expect((await store.queryStats({ from: T0, to: T0 + HOUR, bucket: 'hour' }))[0]).toMatchObject({
      visitors: 1,
      unknown: 1,
    });
    await store.applyPredictions([rec('5', 'cam', 't', 4_000, 0.0)]);
    const [row] = await store.queryStats({ from: T0, to: T0 + HOUR, bucket: 'hour' });
    expect(row).toMatchObject({ visitors: 1, male: 0, female: 1, unknown: 0, faces: 5 });
  });

  it('a replayed batch changes nothing: prediction ids are remembered', async () => {
    const batch = [rec('p1', 'cam', 't', 1_000, 0.9), rec('p2', 'cam', 't', 2_000, 0.9)];
    expect(await store.applyPredictions(batch)).toEqual({ applied: 2, duplicates: 0, late: 0 });
    const before = await store.queryStats({ from: T0, to: T0 + 60_000, bucket: 'minute' });
    expect(await store.applyPredictions(batch)).toEqual({ applied: 0, duplicates: 2, late: 0 });
    expect(await store.applyPredictions([batch[1]!, rec('p3', 'cam', 't', 3_000, 0.9)])).toEqual({
      applied: 1,
      duplicates: 1,
      late: 0,
    });
    const after = await store.queryStats({ from: T0, to: T0 + 60_000, bucket: 'minute' });
    expect(before[0]).toMatchObject({ faces: 2, visitors: 1 });
    expect(after[0]).toMatchObject({ faces: 3, visitors: 1, male: 1 });
  });

  it('applies late events within the allowed lateness and counts later ones as late', async () => {
    await store.applyPredictions([rec('now', 'cam', 'a', 30 * 60_000, 0.9)]);
    const res = await store.applyPredictions([
      rec('slightly-late', 'cam', 'b', 25 * 60_000, 0.1),
      rec('too-late', 'cam', 'c', 5 * 60_000, 0.1),
    ]);
    expect(res).toEqual({ applied: 1, duplicates: 0, late: 1 });
    expect(await store.lateEvents()).toBe(1);
    expect(await store.lateEvents(['other'])).toBe(0);
    const [hour] = await store.queryStats({ from: T0, to: T0 + HOUR, bucket: 'hour' });
    expect(hour).toMatchObject({ faces: 2, visitors: 2 });
  });

  it('the incremental buckets equal a recount of every track with voteTrack', async () => {
    const tracks: { id: string; probs: number[] }[] = [];
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let t = 0; t < 60; t++) tracks.push({ id: `t${t}`, probs: Array.from({ length: 1 + (t % 4) }, () => rnd()) });
    // Interleave the crops of all tracks, as a camera would deliver them.
    const records = tracks
      .flatMap((t) => t.probs.map((p, i) => ({ r: rec(`${t.id}-${i}`, 'cam', t.id, i * 1000, p), order: rnd() })))
      .sort((a, b) => a.order - b.order)
      .map((x) => x.r);
    await store.applyPredictions(records);
    const [row] = await store.queryStats({ from: T0, to: T0 + HOUR, bucket: 'hour' });
    const expected = { male: 0, female: 0, unknown: 0 };
    for (const t of tracks)
      expected[
        voteTrack(
          t.probs.length,
          t.probs.reduce((a, b) => a + b, 0),
          policy,
        )
      ]++;
    expect(row).toMatchObject({ ...expected, visitors: 60 });
  });

  it('retention drops minute buckets and tracks but keeps hour and day rollups', async () => {
    await store.applyPredictions([rec('o1', 'cam', 'old', 0, 0.9), rec('o2', 'cam', 'old', 1000, 0.9)]);
    await store.applyPredictions([
      rec('n1', 'cam', 'new', 2 * HOUR, 0.1),
      rec('n2', 'cam', 'new', 2 * HOUR + 1000, 0.1),
    ]);
    const result = await store.applyRetention(T0 + HOUR);
    expect(result.minuteBuckets).toBe(1);
    expect(result.tracks).toBe(1);
    expect(await store.queryStats({ from: T0, to: T0 + 3 * HOUR, bucket: 'minute' })).toHaveLength(1);
    const hours = await store.queryStats({ from: T0, to: T0 + 3 * HOUR, bucket: 'hour' });
    expect(hours.map((h) => [h.male, h.female])).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  it('builds the dwell-time histogram from first and last sightings', async () => {
    await store.applyPredictions([
      rec('a1', 'cam', 'quick', 0, 0.5),
      rec('a2', 'cam', 'quick', 5_000, 0.5),
      rec('b1', 'cam', 'browser', 0, 0.5),
      rec('b2', 'cam', 'browser', 90_000, 0.5),
      rec('c1', 'cam', 'stayer', 0, 0.5),
      rec('c2', 'cam', 'stayer', 20 * 60_000, 0.5),
    ]);
    const bins = await store.dwellHistogram({ from: T0, to: T0 + HOUR, edgesMs: [10_000, 60_000, 120_000] });
    expect(bins).toEqual([1, 0, 1, 1]);
  });

  it('sums dwell per camera and first-sighting bucket, over the buckets queryStats reads', async () => {
    await store.applyPredictions([
      // minute 0 at cam: two people, 5 s and 90 s (the second leaves in minute 1: still minute 0's)
      rec('a1', 'cam', 'quick', 10_000, 0.5),
      rec('a2', 'cam', 'quick', 15_000, 0.5),
      rec('b1', 'cam', 'browser', 20_000, 0.5),
      rec('b2', 'cam', 'browser', 110_000, 0.5),
      // minute 2 at cam2: one crop, no dwell
      rec('c1', 'cam2', 'once', 2 * 60_000, 0.5),
      // hour 1: outside the range asked for below
      rec('d1', 'cam', 'later', HOUR, 0.5),
      rec('d2', 'cam', 'later', HOUR + 1_000, 0.5),
    ]);
    // `from` inside minute 0 and `to` inside minute 2: the same buckets queryStats returns.
    const q = { from: T0 + 30_000, to: T0 + 2 * 60_000 + 1, bucket: 'minute' } as const;
    const dwell = await store.dwellByBucket(q);
    expect(dwell).toEqual([
      { cameraId: 'cam', bucketStart: T0, tracks: 2, dwellMsSum: 95_000 },
      { cameraId: 'cam2', bucketStart: T0 + 2 * 60_000, tracks: 1, dwellMsSum: 0 },
    ]);
    const visitors = (await store.queryStats(q)).filter((r) => r.visitors > 0);
    expect(visitors.map((r) => [r.cameraId, r.bucketStart, r.visitors])).toEqual(
      dwell.map((d) => [d.cameraId, d.bucketStart, d.tracks]),
    );
    expect(await store.dwellByBucket({ ...q, cameraIds: ['cam2'] })).toHaveLength(1);
    expect(await store.dwellByBucket({ ...q, cameraIds: [] })).toEqual([]);
    expect(await store.dwellByBucket({ from: T0, to: T0 + 2 * HOUR, bucket: 'hour' })).toEqual([
      { cameraId: 'cam', bucketStart: T0, tracks: 2, dwellMsSum: 95_000 },
      { cameraId: 'cam2', bucketStart: T0, tracks: 1, dwellMsSum: 0 },
      { cameraId: 'cam', bucketStart: T0 + HOUR, tracks: 1, dwellMsSum: 1_000 },
    ]);
  });

  it('suppresses buckets with fewer than k people and withholds their counts', () => {
    const rows = [
      { cameraId: 'a', bucketStart: T0, faces: 9, visitors: 2, male: 1, female: 1, unknown: 0 },
      { cameraId: 'a', bucketStart: T0 + 60_000, faces: 30, visitors: 7, male: 3, female: 4, unknown: 0 },
    ];
    const out = suppressSmallBuckets(rows, 3);
    expect(out[0]).toEqual({
      cameraId: 'a',
      bucketStart: T0,
      suppressed: true,
      faces: null,
      visitors: null,
      male: null,
      female: null,
      unknown: null,
      coverage: null,
    });
    expect(out[1]).toMatchObject({ suppressed: false, visitors: 7, coverage: 1 });
    expect(totalsOf(rows.slice(0, 1), 3).suppressed).toBe(true);
    // the suppressed bucket's 2 people are not in the totals either
    expect(totalsOf(rows, 3)).toMatchObject({ suppressed: false, visitors: 7, faces: 30 });
  });

  it('gives coverage, the share of visitors with a decided gender, beside the shares', () => {
    // 10 people, 1 decided: 100 % male of 10 % coverage, not 100 % of everyone.
    const rows = [{ cameraId: 'a', bucketStart: T0, faces: 1, visitors: 10, male: 1, female: 0, unknown: 9 }];
    expect(suppressSmallBuckets(rows, 3)[0]).toMatchObject({ coverage: 0.1 });
    expect(totalsOf(rows, 3)).toMatchObject({ coverage: 0.1, maleShare: 1, femaleShare: 0 });
    expect(totalsOf(rows, 11)).toMatchObject({ suppressed: true, coverage: null, maleShare: null });
  });
});
