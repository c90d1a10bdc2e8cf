/**
 * The aggregation rules folded over in memory, with no database: a map of tracks and a map of
 * bucket counters stand where the store's rows are, so the properties the SQL store relies on
 * (any order, replays, a visitor moved when its vote flips) are checked on the rules themselves.
 */
import { describe, expect, it } from 'vitest';
import {
  BUCKET_MS,
  BUCKET_SIZES,
  type PredictionRecord,
  type TrackEventRecord,
  type TrackVoter,
} from '../aggregate-store.port';
import { floorTo, type BucketCounter, type BucketDelta } from './bucket-deltas';
import type { Track } from './track';
import { TrackAggregator } from './track-aggregator';

/** Thirty seconds before midnight: first sightings fall on both sides of every bucket size. */
const T0 = Date.UTC(2026, 0, 5, 23, 59, 30);
const voter: TrackVoter = (crops, sum) => {
  const mean = sum / crops;
  if (crops < 2 || Math.abs(mean - 0.5) < 0.1) return 'unknown';
  return mean > 0.5 ? 'male' : 'female';
};

type Row = Record<BucketCounter, number>;
type AnyRecord = { kind: 'prediction'; r: PredictionRecord } | { kind: 'event'; e: TrackEventRecord };

/** Tracks and buckets as the store's rows would hold them. */
class MemoryAggregates {
  readonly tracks = new Map<string, Track>();
  readonly buckets = new Map<string, Row>();
  private readonly aggregator = new TrackAggregator(voter);

  apply(record: AnyRecord): readonly BucketDelta[] {
    const { cameraId, trackId } = record.kind === 'prediction' ? record.r : record.e;
    const key = `${cameraId}/${trackId}`;
    const old = this.tracks.get(key);
    const change =
      record.kind === 'prediction'
        ? this.aggregator.prediction(old, record.r)
        : this.aggregator.trackEvent(old, record.e);
    this.tracks.set(key, change.track);
    for (const d of change.deltas) {
      const k = `${cameraId}/${d.size}/${d.bucketStart}`;
      const row = this.buckets.get(k) ?? { faces: 0, visitors: 0, male: 0, female: 0, unknown: 0 };
      for (const [c, n] of Object.entries(d.counts) as [BucketCounter, number][]) row[c] += n;
      this.buckets.set(k, row);
    }
    return change.deltas;
  }

  /** Rows that count something, sorted: what queryStats would return. */
  snapshot(): [string, Row][] {
    return [...this.buckets.entries()]
      .filter(([, r]) => r.faces !== 0 || r.visitors !== 0 || r.male !== 0 || r.female !== 0 || r.unknown !== 0)
      .sort(([a], [b]) => a.localeCompare(b));
  }
}

/** mulberry32: small, seeded, good enough to shuffle. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function shuffle<T>(items: readonly T[], rnd: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function lifetimeEvents(
  trackId: string,
  firstSeenTs: number,
  stayMs: number,
  withStarted: boolean,
): TrackEventRecord[] {
  const base = {
    cameraId: 'cam',
    trackId,
    unit: 'person' as const,
    firstSeenTs,
    largestFacePx: 30,
    endReason: null,
    ended: false,
  };
  const events: TrackEventRecord[] = [
    { ...base, eventId: `${trackId}-h`, lastSeenTs: firstSeenTs + stayMs / 2, frames: 5 },
    { ...base, eventId: `${trackId}-x`, lastSeenTs: firstSeenTs + stayMs, frames: 9, ended: true, endReason: 'left' },
  ];
  if (withStarted) events.push({ ...base, eventId: `${trackId}-s`, lastSeenTs: firstSeenTs, frames: 1 });
  return events;
}

/** Eight people around midnight, some with no started event, some with a crop before the first sighting. */
function corpus(): AnyRecord[] {
  const out: AnyRecord[] = [];
  for (let i = 0; i < 8; i++) {
    const trackId = `t${i}`;
    const first = T0 + (i - 4) * 20_000;
    for (const e of lifetimeEvents(trackId, first, 40_000, i % 3 !== 0)) out.push({ kind: 'event', e });
    // No mean exactly on the vote margin (0.1 + 0.2 + 0.9 is 0.4 or a hair off it, by the order the
    // crops were summed in): there the float sum, not the rule, would decide.
    const probs = [[], [0.9], [0.9, 0.8], [0.1, 0.2, 0.8], [0.5, 0.55]][i % 5]!;
    probs.forEach((probMale, j) => {
      // Track 5's first crop is framed before its first reported sighting: it widens the lifetime.
      const frameTs = i === 5 && j === 0 ? first - 45_000 : first + 1_000 * (j + 1);
      out.push({
        kind: 'prediction',
        r: { predictionId: `${trackId}-p${j}`, cameraId: 'cam', trackId, frameTs, probMale },
      });
    });
  }
  return out;
}

/** What the buckets must hold, counted from scratch: each track once under its final first sighting and vote. */
function recount(tracks: ReadonlyMap<string, Track>, predictions: readonly PredictionRecord[]): [string, Row][] {
  const rows = new Map<string, Row>();
  const row = (k: string): Row => {
    const r = rows.get(k) ?? { faces: 0, visitors: 0, male: 0, female: 0, unknown: 0 };
    rows.set(k, r);
    return r;
  };
  for (const size of BUCKET_SIZES) {
    for (const t of tracks.values()) {
      const r = row(`cam/${size}/${floorTo(t.firstTs, BUCKET_MS[size])}`);
      r.visitors++;
      r[t.vote]++;
    }
    for (const p of predictions) row(`cam/${size}/${floorTo(p.frameTs, BUCKET_MS[size])}`).faces++;
  }
  return [...rows.entries()].sort(([a], [b]) => a.localeCompare(b));
}

describe('TrackAggregator', () => {
  it('any order of a track’s events and predictions gives the same tracks and buckets, equal to a recount', () => {
    const records = corpus();
    const predictions = records.flatMap((x) => (x.kind === 'prediction' ? [x.r] : []));
    let first: { tracks: Map<string, Track>; buckets: [string, Row][] } | undefined;
    for (let seed = 1; seed <= 200; seed++) {
      const memory = new MemoryAggregates();
      for (const x of shuffle(records, random(seed))) memory.apply(x);
      const buckets = memory.snapshot();
      expect(buckets).toEqual(recount(memory.tracks, predictions));
      if (!first) first = { tracks: memory.tracks, buckets };
      // Vote sums may differ in the last bits with the order they were added in; the counts may not.
      for (const [k, t] of memory.tracks) {
        const want = first.tracks.get(k)!;
        expect({ ...t, sumProbMale: 0 }).toEqual({ ...want, sumProbMale: 0 });
        expect(t.sumProbMale).toBeCloseTo(want.sumProbMale, 12);
      }
      expect(buckets).toEqual(first.buckets);
    }
    expect(first!.tracks.size).toBe(8);
  });

  it('a replayed track event changes neither the track nor any bucket', () => {
    const memory = new MemoryAggregates();
    const [heartbeat, ended] = lifetimeEvents('t', T0, 40_000, false);
    memory.apply({ kind: 'event', e: heartbeat! });
    memory.apply({ kind: 'event', e: ended! });
    const before = { track: memory.tracks.get('cam/t'), buckets: memory.snapshot() };
    expect(memory.apply({ kind: 'event', e: heartbeat! })).toEqual([]);
    expect(memory.apply({ kind: 'event', e: ended! })).toEqual([]);
    expect({ track: memory.tracks.get('cam/t'), buckets: memory.snapshot() }).toEqual(before);
  });

  it('a prediction is not idempotent by itself: a replay adds a face, which is why the store remembers ids', () => {
    const memory = new MemoryAggregates();
    const r: PredictionRecord = { predictionId: 'p', cameraId: 'cam', trackId: 't', frameTs: T0, probMale: 0.9 };
    memory.apply({ kind: 'prediction', r });
    memory.apply({ kind: 'prediction', r });
    expect(memory.tracks.get('cam/t')!.crops).toBe(2);
  });

  it('moves the visitor between gender columns as its vote flips, counting them once throughout', () => {
    const memory = new MemoryAggregates();
    const crop = (i: number, probMale: number): AnyRecord => ({
      kind: 'prediction',
      r: { predictionId: `p${i}`, cameraId: 'cam', trackId: 't', frameTs: T0 + i * 1_000, probMale },
    });
    const minute = `cam/minute/${floorTo(T0, 60_000)}`;
    const genders = (): Omit<Row, 'faces'> => {
      const { faces: _faces, ...rest } = memory.buckets.get(minute)!;
      return rest;
    };
    memory.apply(crop(0, 0.9)); // one crop: not enough evidence
    expect(genders()).toEqual({ visitors: 1, male: 0, female: 0, unknown: 1 });
    memory.apply(crop(1, 0.9)); // two male crops: male
    expect(genders()).toEqual({ visitors: 1, male: 1, female: 0, unknown: 0 });
    memory.apply(crop(2, 0.0)); // mean 0.6: still male
    memory.apply(crop(3, 0.0)); // mean 0.45: too close to call
    expect(genders()).toEqual({ visitors: 1, male: 0, female: 0, unknown: 1 });
    memory.apply(crop(4, 0.0)); // mean 0.36: female
    memory.apply(crop(5, 0.0));
    expect(genders()).toEqual({ visitors: 1, male: 0, female: 1, unknown: 0 });
    expect(memory.buckets.get(minute)!.faces).toBe(6);
    // The hour and day agree with the minute.
    for (const size of ['hour', 'day'] as const) {
      expect(memory.buckets.get(`cam/${size}/${floorTo(T0, BUCKET_MS[size])}`)).toEqual(memory.buckets.get(minute));
    }
  });

  it('a track event reporting an earlier first sighting moves the visitor to the earlier buckets', () => {
    const memory = new MemoryAggregates();
    const tomorrow = Date.UTC(2026, 0, 6, 0, 0, 10);
    memory.apply({
      kind: 'prediction',
      r: { predictionId: 'p', cameraId: 'cam', trackId: 't', frameTs: tomorrow, probMale: 0.9 },
    });
    memory.apply({ kind: 'event', e: lifetimeEvents('t', T0, 60_000, false)[0]! });
    const day = (ts: number): Row | undefined => memory.buckets.get(`cam/day/${floorTo(ts, BUCKET_MS.day)}`);
    expect(day(tomorrow)).toEqual({ faces: 1, visitors: 0, male: 0, female: 0, unknown: 0 });
    expect(day(T0)).toEqual({ faces: 0, visitors: 1, male: 0, female: 0, unknown: 1 });
  });
});
