import {
  BUCKET_MS,
  type AggregateStore,
  type ApplyResult,
  type DwellBucketRow,
  type DwellQuery,
  type PredictionRecord,
  type RetentionResult,
  type TrackEventRecord,
  type StatsQuery,
  type StatsRow,
  type TrackVoter,
  type VotedGender,
} from '../aggregate-store.port';
import {
  floorTo,
  judgeLateness,
  TrackAggregator,
  type BucketDelta,
  type Track,
  type TrackChange,
} from '../aggregation';
import { MIGRATIONS } from './migrations';
import { runMigrations } from './run-migrations';
import type { SqlDriver, SqlValue } from './sql-driver';

export interface SqlAggregateStoreOptions {
  /** The per-track gender rule (analytics' voteTrack with its policy). */
  readonly voter: TrackVoter;
  /** Events this far behind the camera's newest one are still applied; older ones are counted as late. */
  readonly allowedLatenessMs: number;
}

/** The columns of one `tracks` row; pg returns BIGINT and DOUBLE as strings. */
interface TrackRow {
  first_ts: number | string;
  last_ts: number | string;
  crops: number | string;
  sum_prob_male: number | string;
  vote: VotedGender;
  frames: number | string;
  largest_face_px: number | string;
  ended: number | string;
  end_reason: string | null;
  unit: string | null;
}

interface BucketRow {
  camera_id: string;
  bucket_start: number | string;
  faces: number | string;
  visitors: number | string;
  male: number | string;
  female: number | string;
  unknown: number | string;
}

/**
 * Where one input stream remembers its applied ids and its watermark. Each stream has a watermark
 * of its own: predictions and track events are consumed independently (two topics), so one
 * catching up on a backlog must not make the other's on-time events late.
 */
interface Stream<R> {
  readonly idTable: 'applied_predictions' | 'applied_track_events';
  readonly idColumn: 'prediction_id' | 'event_id';
  readonly watermarks: 'camera_watermarks' | 'track_event_watermarks';
  idOf(record: R): string;
  /** The event time lateness is judged by: the newest moment the record speaks of. */
  eventTs(record: R): number;
}

const PREDICTIONS: Stream<PredictionRecord> = {
  idTable: 'applied_predictions',
  idColumn: 'prediction_id',
  watermarks: 'camera_watermarks',
  idOf: (r) => r.predictionId,
  eventTs: (r) => r.frameTs,
};

const TRACK_EVENTS: Stream<TrackEventRecord> = {
  idTable: 'applied_track_events',
  idColumn: 'event_id',
  watermarks: 'track_event_watermarks',
  idOf: (e) => e.eventId,
  // Last seen, not first seen: a heartbeat of someone who arrived an hour ago is news, not late.
  eventTs: (e) => e.lastSeenTs,
};

/**
 * The one query layer over SQLite and PostgreSQL: written once, the driver
 * hides placeholders and transactions. Buckets are maintained incrementally,
 * so reads are plain range scans; what a record changes (its track, the bucket
 * deltas, whether it is late) is decided by the pure rules in ../aggregation,
 * and this class only persists it: lock and read the track, write it back,
 * add the deltas, remember ids and watermarks.
 */
export class SqlAggregateStore implements AggregateStore {
  /**
   * Write transactions of this store, one at a time. Predictions and track events come from two
   * recorders at once and touch the same track and bucket rows in different orders: concurrently,
   * PostgreSQL would break the resulting deadlocks by failing one of them (retried, but a failure).
   * This only orders this instance's transactions; counts stay right across processes because each
   * merge locks its track row (lockTrack).
   */
  private writes: Promise<unknown> = Promise.resolve();

  private readonly aggregator: TrackAggregator;

  constructor(
    private readonly db: SqlDriver,
    private readonly options: SqlAggregateStoreOptions,
  ) {
    this.aggregator = new TrackAggregator(options.voter);
  }

  migrate(): Promise<void> {
    return runMigrations(this.db, MIGRATIONS);
  }

  applyPredictions(records: readonly PredictionRecord[]): Promise<ApplyResult> {
    return this.applyBatch(records, PREDICTIONS, (tx, r) => this.applyPrediction(tx, r));
  }

  applyTrackEvents(events: readonly TrackEventRecord[]): Promise<ApplyResult> {
    return this.applyBatch(events, TRACK_EVENTS, (tx, e) => this.applyTrackEvent(tx, e));
  }

  /** One transaction per batch: remember each id (a known one is a duplicate), judge lateness, apply. */
  private async applyBatch<R extends { readonly cameraId: string }>(
    records: readonly R[],
    stream: Stream<R>,
    apply: (tx: SqlDriver, record: R) => Promise<void>,
  ): Promise<ApplyResult> {
    if (records.length === 0) return { applied: 0, duplicates: 0, late: 0 };
    return this.serialized(() =>
      this.db.transaction(async (tx) => {
        let applied = 0;
        let duplicates = 0;
        let late = 0;
        const now = Date.now();
        for (const r of records) {
          const inserted = await tx.run(
            `INSERT INTO ${stream.idTable} (${stream.idColumn}, applied_at) VALUES (?, ?) ON CONFLICT (${stream.idColumn}) DO NOTHING`,
            [stream.idOf(r), now],
          );
          if (inserted.changes === 0) {
            duplicates++;
            continue;
          }
          if (await this.isLate(tx, stream.watermarks, r.cameraId, stream.eventTs(r))) {
            late++;
            continue;
          }
          applied++;
          await apply(tx, r);
        }
        return { applied, duplicates, late };
      }),
    );
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work, work);
    this.writes = run.catch(() => undefined);
    return run;
  }

  /** Advances the camera's watermark; an event further behind it than the allowed lateness is late. */
  private async isLate(
    tx: SqlDriver,
    watermarks: Stream<unknown>['watermarks'],
    cameraId: string,
    ts: number,
  ): Promise<boolean> {
    const [mark] = await tx.all<{ max_ts: number | string }>(`SELECT max_ts FROM ${watermarks} WHERE camera_id = ?`, [
      cameraId,
    ]);
    switch (judgeLateness(mark ? Number(mark.max_ts) : undefined, ts, this.options.allowedLatenessMs)) {
      case 'first':
        await tx.run(`INSERT INTO ${watermarks} (camera_id, max_ts, late_events) VALUES (?, ?, 0)`, [cameraId, ts]);
        return false;
      case 'late':
        await tx.run(`UPDATE ${watermarks} SET late_events = late_events + 1 WHERE camera_id = ?`, [cameraId]);
        return true;
      case 'advance':
        await tx.run(`UPDATE ${watermarks} SET max_ts = ? WHERE camera_id = ?`, [ts, cameraId]);
        return false;
      case 'within':
        return false;
    }
  }

  private async applyPrediction(tx: SqlDriver, r: PredictionRecord): Promise<void> {
    const old = await this.lockTrack(tx, r.cameraId, r.trackId);
    await this.persist(tx, r.cameraId, r.trackId, this.aggregator.prediction(old, r));
  }

  private async applyTrackEvent(tx: SqlDriver, e: TrackEventRecord): Promise<void> {
    const old = await this.lockTrack(tx, e.cameraId, e.trackId);
    await this.persist(tx, e.cameraId, e.trackId, this.aggregator.trackEvent(old, e));
  }

  private async persist(tx: SqlDriver, cameraId: string, trackId: string, change: TrackChange): Promise<void> {
    await this.writeTrack(tx, cameraId, trackId, change.track);
    for (const delta of change.deltas) await this.bump(tx, cameraId, delta);
  }

  /**
   * The track as committed, locked until this transaction ends; undefined = nobody has created it.
   *
   * Why not a plain SELECT: every merge is read, modify, write, and the visitor moves' +1 / -1 trust the
   * read. Two transactions at once (another analytics process on the same PostgreSQL, or a restarted
   * one overlapping the old; `serialized` only orders this instance's own) both read "no row" under
   * READ COMMITTED, both count the person (the second INSERT's ON CONFLICT just overwrites the row):
   * 57 visitors for 56 tracks; or both move the person out of the same old bucket. So the row is
   * claimed and locked first, in one statement both databases run: an upsert that inserts a
   * placeholder (first_ts = -1; real times are >= 0) or, on conflict, updates the row to itself, which
   * waits for any other writer of it to commit and then returns its latest values. writeTrack always
   * overwrites the placeholder before the transaction ends.
   */
  private async lockTrack(tx: SqlDriver, cameraId: string, trackId: string): Promise<Track | undefined> {
    const [row] = await tx.all<TrackRow>(
      `INSERT INTO tracks (camera_id, track_id, first_ts, last_ts, crops, sum_prob_male, vote)
       VALUES (?, ?, -1, -1, 0, 0, 'unknown')
       ON CONFLICT (camera_id, track_id) DO UPDATE SET first_ts = tracks.first_ts
       RETURNING first_ts, last_ts, crops, sum_prob_male, vote, frames, largest_face_px, ended, end_reason, unit`,
      [cameraId, trackId],
    );
    if (!row) throw new Error(`track ${cameraId}/${trackId}: the locking upsert returned no row`);
    if (Number(row.first_ts) < 0) return undefined;
    return {
      firstTs: Number(row.first_ts),
      lastTs: Number(row.last_ts),
      crops: Number(row.crops),
      sumProbMale: Number(row.sum_prob_male),
      vote: row.vote,
      frames: Number(row.frames),
      largestFacePx: Number(row.largest_face_px),
      ended: Number(row.ended) !== 0,
      endReason: row.end_reason,
      unit: row.unit,
    };
  }

  private async writeTrack(tx: SqlDriver, cameraId: string, trackId: string, t: Track): Promise<void> {
    await tx.run(
      `INSERT INTO tracks (camera_id, track_id, first_ts, last_ts, crops, sum_prob_male, vote, frames, largest_face_px, ended, end_reason, unit)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (camera_id, track_id) DO UPDATE SET
         first_ts = excluded.first_ts, last_ts = excluded.last_ts, crops = excluded.crops,
         sum_prob_male = excluded.sum_prob_male, vote = excluded.vote, frames = excluded.frames,
         largest_face_px = excluded.largest_face_px, ended = excluded.ended,
         end_reason = excluded.end_reason, unit = excluded.unit`,
      [
        cameraId,
        trackId,
        t.firstTs,
        t.lastTs,
        t.crops,
        t.sumProbMale,
        t.vote,
        t.frames,
        t.largestFacePx,
        t.ended ? 1 : 0,
        t.endReason,
        t.unit,
      ],
    );
  }

  private async bump(tx: SqlDriver, cameraId: string, { size, bucketStart, counts }: BucketDelta): Promise<void> {
    const d = (k: keyof typeof counts): number => counts[k] ?? 0;
    await tx.run(
      `INSERT INTO buckets (camera_id, size, bucket_start, faces, visitors, male, female, unknown) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (size, bucket_start, camera_id) DO UPDATE SET
         faces = buckets.faces + excluded.faces,
         visitors = buckets.visitors + excluded.visitors,
         male = buckets.male + excluded.male,
         female = buckets.female + excluded.female,
         unknown = buckets.unknown + excluded.unknown`,
      [cameraId, size, bucketStart, d('faces'), d('visitors'), d('male'), d('female'), d('unknown')],
    );
  }

  async queryStats(q: StatsQuery): Promise<StatsRow[]> {
    const { clause, params } = cameraFilter(q.cameraIds);
    const rows = await this.db.all<BucketRow>(
      `SELECT camera_id, bucket_start, faces, visitors, male, female, unknown
         FROM buckets
        WHERE size = ? AND bucket_start >= ? AND bucket_start < ?${clause}
          AND (faces > 0 OR visitors > 0)
        ORDER BY bucket_start, camera_id`,
      [q.bucket, floorTo(q.from, BUCKET_MS[q.bucket]), q.to, ...params],
    );
    return rows.map((r) => ({
      cameraId: r.camera_id,
      bucketStart: Number(r.bucket_start),
      faces: Number(r.faces),
      visitors: Number(r.visitors),
      male: Number(r.male),
      female: Number(r.female),
      unknown: Number(r.unknown),
    }));
  }

  async dwellHistogram(q: DwellQuery): Promise<number[]> {
    const { clause, params } = cameraFilter(q.cameraIds);
    const cases = q.edgesMs.map((_, i) => `WHEN last_ts - first_ts < ? THEN ${i}`).join(' ');
    const rows = await this.db.all<{ bin: number | string; n: number | string }>(
      `SELECT CASE ${cases} ELSE ${q.edgesMs.length} END AS bin, COUNT(*) AS n
         FROM tracks WHERE first_ts >= ? AND first_ts < ?${clause}
        GROUP BY 1`,
      [...q.edgesMs, q.from, q.to, ...params],
    );
    const bins = new Array<number>(q.edgesMs.length + 1).fill(0);
    for (const r of rows) bins[Number(r.bin)] = Number(r.n);
    return bins;
  }

  async dwellByBucket(q: StatsQuery): Promise<DwellBucketRow[]> {
    const { clause, params } = cameraFilter(q.cameraIds);
    const ms = BUCKET_MS[q.bucket];
    // Bounds on first_ts (indexed) that select exactly the buckets queryStats reads: start in [floor(from), to).
    const rows = await this.db.all<{
      camera_id: string;
      bucket_start: number | string;
      tracks: number | string;
      dwell_ms: number | string;
    }>(
      `SELECT camera_id, first_ts - first_ts % ? AS bucket_start, COUNT(*) AS tracks, SUM(last_ts - first_ts) AS dwell_ms
         FROM tracks
        WHERE first_ts >= ? AND first_ts < ?${clause}
        GROUP BY 1, 2
        ORDER BY 2, 1`,
      [ms, floorTo(q.from, ms), floorTo(q.to - 1, ms) + ms, ...params],
    );
    return rows.map((r) => ({
      cameraId: r.camera_id,
      bucketStart: Number(r.bucket_start),
      tracks: Number(r.tracks),
      dwellMsSum: Number(r.dwell_ms),
    }));
  }

  async lateEvents(cameraIds?: readonly string[]): Promise<number> {
    const { clause, params } = cameraFilter(cameraIds);
    const [row] = await this.db.all<{ n: number | string | null }>(
      `SELECT SUM(n) AS n FROM (
         SELECT SUM(late_events) AS n FROM camera_watermarks WHERE 1 = 1${clause}
         UNION ALL
         SELECT SUM(late_events) AS n FROM track_event_watermarks WHERE 1 = 1${clause}
       ) AS streams`,
      [...params, ...params],
    );
    return Number(row?.n ?? 0);
  }

  async applyRetention(before: number): Promise<RetentionResult> {
    return this.serialized(() =>
      this.db.transaction(async (tx) => {
        const minuteBuckets = await tx.run(`DELETE FROM buckets WHERE size = 'minute' AND bucket_start < ?`, [before]);
        const tracks = await tx.run(`DELETE FROM tracks WHERE last_ts < ?`, [before]);
        // Ids only matter while a redelivery can still arrive; far older than the bus retention.
        const ids = await tx.run(`DELETE FROM applied_predictions WHERE applied_at < ?`, [before]);
        const eventIds = await tx.run(`DELETE FROM applied_track_events WHERE applied_at < ?`, [before]);
        return {
          minuteBuckets: minuteBuckets.changes,
          tracks: tracks.changes,
          predictionIds: ids.changes,
          trackEventIds: eventIds.changes,
        };
      }),
    );
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/** undefined = every camera; an empty list = none. */
function cameraFilter(cameraIds?: readonly string[]): { clause: string; params: SqlValue[] } {
  if (!cameraIds) return { clause: '', params: [] };
  if (cameraIds.length === 0) return { clause: ' AND 1 = 0', params: [] };
  return { clause: ` AND camera_id IN (${cameraIds.map(() => '?').join(', ')})`, params: [...cameraIds] };
}
