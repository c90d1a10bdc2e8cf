/**
 * Visitors are counted once whatever order a track's events and predictions
 * arrive in, on SQLite and a real PostgreSQL. Generated tracks (started /
 * heartbeat / ended, some with no started event, 0–3 predictions each, times
 * straddling minute, hour and day boundaries) are applied in many seeded
 * interleavings and batchings: one stream split by kind as the two recorders
 * would, the two recorders' streams concurrently into one store, and (on
 * PostgreSQL) into two stores on one database, as two analytics processes
 * would. After each run, for every bucket size:
 * - the buckets are exactly what the tracks table says (each track once, in
 *   its first-seen bucket, under its vote), so visitors sum to the tracks and
 *   male + female + unknown = visitors in every bucket;
 * - every run gives the same buckets and tracks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BUCKET_MS,
  BUCKET_SIZES,
  PostgresDriver,
  SqlAggregateStore,
  SqliteDriver,
  type PredictionRecord,
  type SqlAggregateStoreOptions,
  type SqlDriver,
  type TrackEventRecord,
} from '@crowdlens/storage';
import { meanVoter } from '../factories/voter.factory';
import { toRecord } from '../../apps/analytics/src/services/track-event-recorder.service';
import { trackEvent } from '../factories/track-event.factory';
import { createTestDatabase } from '../support/postgres';

/** Thirty seconds before a day (and hour, and minute) boundary: first sightings fall on both sides. */
const T0 = Date.UTC(2026, 0, 5, 23, 59, 30);
const HOUR = 3_600_000;

const voter = meanVoter(1);
const OPTIONS: SqlAggregateStoreOptions = { voter, allowedLatenessMs: 24 * HOUR };

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

/** Random slices of 1..max, in order. */
function batches<T>(items: readonly T[], max: number, rnd: () => number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length;) {
    const n = 1 + Math.floor(rnd() * max);
    out.push(items.slice(i, i + n));
    i += n;
  }
  return out;
}

interface Corpus {
  readonly events: readonly TrackEventRecord[];
  readonly predictions: readonly PredictionRecord[];
  readonly tracks: number;
}

/**
 * `tracks` people on two cameras, first seen within ±2 min of T0. A sixth have no started event
 * (its heartbeats and ended carry the first sighting), a few have a crop framed just before the
 * first sighting the events report, some stay open.
 */
function corpus(tracks: number, seed: number): Corpus {
  const rnd = random(seed);
  const events: TrackEventRecord[] = [];
  const predictions: PredictionRecord[] = [];
  for (let i = 0; i < tracks; i++) {
    const cameraId = `cam-${i % 2}`;
    const trackId = `t${i}`;
    const first = T0 - 120_000 + Math.floor(rnd() * 240_000);
    const stay = Math.floor(rnd() * 150_000);
    const last = first + stay;
    const at = (seq: number, ts: number) => ({ cameraId, trackId, seq, firstSeenTs: first, lastSeenTs: ts });
    const lifetime = [trackEvent('started', at(0, first))];
    for (let ts = first + 30_000; ts < last; ts += 30_000)
      lifetime.push(trackEvent('heartbeat', at(lifetime.length, ts)));
    if (rnd() < 0.8) lifetime.push(trackEvent('ended', at(lifetime.length, last)));
    else if (last > first) lifetime.push(trackEvent('heartbeat', at(lifetime.length, last)));
    const kept = i % 6 === 5 && lifetime.length > 1 ? lifetime.slice(1) : lifetime;
    events.push(...kept.map(toRecord));
    const crops = Math.floor(rnd() * 4);
    for (let k = 0; k < crops; k++) {
      const early = i % 5 === 4 && k === 0;
      const frameTs = early ? first - 1 - Math.floor(rnd() * 20_000) : first + Math.floor(rnd() * (stay + 1));
      predictions.push({ predictionId: `${trackId}-${k}`, cameraId, trackId, frameTs, probMale: rnd() });
    }
  }
  return { events, predictions, tracks };
}

type Input = { kind: 'event'; record: TrackEventRecord } | { kind: 'prediction'; record: PredictionRecord };

const inputsOf = (c: Corpus): Input[] => [
  ...c.events.map((record): Input => ({ kind: 'event', record })),
  ...c.predictions.map((record): Input => ({ kind: 'prediction', record })),
];

/** One shuffled stream, batched at random; each batch split by kind, kinds in random order. */
async function applyInterleaved(store: SqlAggregateStore, c: Corpus, rnd: () => number): Promise<void> {
  for (const batch of batches(shuffle(inputsOf(c), rnd), 40, rnd)) {
    const events = batch.flatMap((x) => (x.kind === 'event' ? [x.record] : []));
    const predictions = batch.flatMap((x) => (x.kind === 'prediction' ? [x.record] : []));
    if (rnd() < 0.5) {
      await store.applyTrackEvents(events);
      await store.applyPredictions(predictions);
    } else {
      await store.applyPredictions(predictions);
      await store.applyTrackEvents(events);
    }
  }
}

/** What the two recorders do on a backlog: each topic in its own order, batches in flight at once. */
async function applyConcurrently(
  events: SqlAggregateStore,
  predictions: SqlAggregateStore,
  c: Corpus,
  rnd: () => number,
): Promise<void> {
  const eventBatches = batches(shuffle(c.events, rnd), 30, rnd);
  const predictionBatches = batches(shuffle(c.predictions, rnd), 30, rnd);
  await Promise.all([
    (async () => {
      for (const b of eventBatches) await retried(() => events.applyTrackEvents(b));
    })(),
    (async () => {
      for (const b of predictionBatches) await retried(() => predictions.applyPredictions(b));
    })(),
  ]);
}

/** As StoreBatchWriter does: a failed transaction (a deadlock victim) is retried until it commits. */
async function retried<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt));
    }
  }
}

interface Bucket {
  size: string;
  cameraId: string;
  bucketStart: number;
  visitors: number;
  male: number;
  female: number;
  unknown: number;
}

interface Figures {
  readonly buckets: Bucket[];
  readonly tracks: {
    cameraId: string;
    trackId: string;
    firstTs: number;
    lastTs: number;
    crops: number;
    vote: string;
  }[];
}

async function read(driver: SqlDriver): Promise<Figures> {
  const buckets = (
    await driver.all<Record<string, string | number>>(
      `SELECT size, camera_id, bucket_start, visitors, male, female, unknown FROM buckets
        WHERE visitors <> 0 OR male <> 0 OR female <> 0 OR unknown <> 0
        ORDER BY size, camera_id, bucket_start`,
    )
  ).map((r) => ({
    size: String(r.size),
    cameraId: String(r.camera_id),
    bucketStart: Number(r.bucket_start),
    visitors: Number(r.visitors),
    male: Number(r.male),
    female: Number(r.female),
    unknown: Number(r.unknown),
  }));
  const tracks = (
    await driver.all<Record<string, string | number>>(
      `SELECT camera_id, track_id, first_ts, last_ts, crops, vote FROM tracks ORDER BY camera_id, track_id`,
    )
  ).map((r) => ({
    cameraId: String(r.camera_id),
    trackId: String(r.track_id),
    firstTs: Number(r.first_ts),
    lastTs: Number(r.last_ts),
    crops: Number(r.crops),
    vote: String(r.vote),
  }));
  return { buckets, tracks };
}

/** The buckets the tracks table implies: each track once, in its first-seen bucket, under its vote. */
function bucketsOf(tracks: Figures['tracks']): Bucket[] {
  const byKey = new Map<string, Bucket>();
  for (const size of BUCKET_SIZES) {
    for (const t of tracks) {
      const bucketStart = Math.floor(t.firstTs / BUCKET_MS[size]) * BUCKET_MS[size];
      const key = `${size}|${t.cameraId}|${bucketStart}`;
      const b = byKey.get(key) ?? {
        size,
        cameraId: t.cameraId,
        bucketStart,
        visitors: 0,
        male: 0,
        female: 0,
        unknown: 0,
      };
      b.visitors++;
      if (t.vote === 'male' || t.vote === 'female' || t.vote === 'unknown') b[t.vote]++;
      byKey.set(key, b);
    }
  }
  return [...byKey.values()].sort(
    (a, b) => a.size.localeCompare(b.size) || a.cameraId.localeCompare(b.cameraId) || a.bucketStart - b.bucketStart,
  );
}

function expectConsistent(f: Figures, tracks: number, label: string): void {
  expect(f.tracks, label).toHaveLength(tracks);
  for (const size of BUCKET_SIZES) {
    const rows = f.buckets.filter((b) => b.size === size);
    expect(
      rows.reduce((n, b) => n + b.visitors, 0),
      `${label}: ${size} visitors`,
    ).toBe(tracks);
    for (const b of rows) expect(b.male + b.female + b.unknown, `${label}: ${size} ${b.bucketStart}`).toBe(b.visitors);
  }
  expect(f.buckets, label).toEqual(bucketsOf(f.tracks));
}

interface Opened {
  readonly stores: readonly SqlAggregateStore[];
  readonly driver: SqlDriver;
  dispose(): Promise<void>;
}

interface Backend {
  readonly name: string;
  /** `stores` stores on one fresh database (several = several analytics processes). */
  open(stores: number): Promise<Opened>;
  readonly multiProcess: boolean;
}

const BACKENDS: readonly Backend[] = [
  {
    name: 'SQLite',
    multiProcess: false,
    open: async () => {
      const driver = new SqliteDriver(':memory:');
      const store = new SqlAggregateStore(driver, OPTIONS);
      await store.migrate();
      return { stores: [store], driver, dispose: () => store.close() };
    },
  },
  {
    name: 'PostgreSQL',
    multiProcess: true,
    open: async (count) => {
      const db = await createTestDatabase('merge_order');
      const drivers = Array.from({ length: count }, () => new PostgresDriver({ url: db.url }));
      const stores = drivers.map((d) => new SqlAggregateStore(d, OPTIONS));
      for (const s of stores) await s.migrate();
      return {
        stores,
        driver: drivers[0]!,
        dispose: async () => {
          for (const s of stores) await s.close();
          await db.drop();
        },
      };
    },
  },
];

const TRACKS = 56;

describe.each(BACKENDS)('visitors counted once in any order on $name', (backend) => {
  let reference: Figures;

  beforeAll(async () => {
    // The reference: every track's events first, then its predictions, one at a time.
    const c = corpus(TRACKS, 1);
    const { stores, driver, dispose } = await backend.open(1);
    try {
      for (const e of c.events) await stores[0]!.applyTrackEvents([e]);
      for (const p of c.predictions) await stores[0]!.applyPredictions([p]);
      reference = await read(driver);
    } finally {
      await dispose();
    }
    expectConsistent(reference, TRACKS, 'reference');
  });

  it('gives the same buckets for shuffled, mixed batches from one stream', async () => {
    const c = corpus(TRACKS, 1);
    const { stores, driver, dispose } = await backend.open(1);
    try {
      for (let run = 0; run < 6; run++) {
        if (run > 0) await clear(driver);
        await applyInterleaved(stores[0]!, c, random(100 + run));
        const f = await read(driver);
        expectConsistent(f, TRACKS, `interleaving ${run}`);
        expect(f).toEqual(reference);
      }
    } finally {
      await dispose();
    }
  });

  it('gives the same buckets when the two recorders apply their backlogs into one store at once', async () => {
    const c = corpus(TRACKS, 1);
    const { stores, driver, dispose } = await backend.open(1);
    try {
      for (let run = 0; run < 6; run++) {
        if (run > 0) await clear(driver);
        await applyConcurrently(stores[0]!, stores[0]!, c, random(200 + run));
        const f = await read(driver);
        expectConsistent(f, TRACKS, `concurrent ${run}`);
        expect(f).toEqual(reference);
      }
    } finally {
      await dispose();
    }
  });

  it.runIf(backend.multiProcess)(
    'gives the same buckets when two analytics processes share the database (track events on one, predictions on the other)',
    async () => {
      const c = corpus(TRACKS, 1);
      const { stores, driver, dispose } = await backend.open(2);
      try {
        // Fewer runs: across processes the transactions deadlock now and then (hot bucket rows), and
        // each costs PostgreSQL's deadlock_timeout before the retry. One run found the double count.
        for (let run = 0; run < 3; run++) {
          if (run > 0) await clear(driver);
          await applyConcurrently(stores[0]!, stores[1]!, c, random(300 + run));
          const f = await read(driver);
          expectConsistent(f, TRACKS, `two processes ${run}`);
          expect(f).toEqual(reference);
        }
      } finally {
        await dispose();
      }
    },
  );
});

/** Back to an empty store between runs (the schema stays). */
async function clear(driver: SqlDriver): Promise<void> {
  for (const table of [
    'tracks',
    'buckets',
    'applied_predictions',
    'applied_track_events',
    'camera_watermarks',
    'track_event_watermarks',
  ]) {
    await driver.run(`DELETE FROM ${table}`);
  }
}
