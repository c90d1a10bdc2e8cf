import {
  BUCKET_MS,
  BUCKET_SIZES,
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
import { MIGRATIONS } from './migrations';
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

/** One person as the store keeps them: lifetime, face-size and frame counts, vote evidence. */
interface Track {
  readonly firstTs: number;
  readonly lastTs: number;
  readonly crops: number;
  readonly sumProbMale: number;
  readonly vote: VotedGender;
  readonly frames: number;
  readonly largestFacePx: number;
  readonly ended: boolean;
  readonly endReason: string | null;
  readonly unit: string | null;
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

/** A track nobody has seen a face of yet: a visitor of unknown gender. */
const NEW_TRACK: Track = {
  firstTs: 0,
  lastTs: 0,
  crops: 0,
  sumProbMale: 0,
  vote: 'unknown',
  frames: 0,
  largestFacePx: 0,
  ended: false,
  endReason: null,
  unit: null,
};

const floorTo = (ts: number, size: number): number => Math.floor(ts / size) * size;

/**
 * The one query layer over SQLite and PostgreSQL: written once, the driver
 * hides placeholders and transactions. Buckets are maintained incrementally:
 * when a track's first sighting or vote changes, its first-sighting buckets
 * move one count from the old (bucket, gender) to the new one, so reads are
 * plain range scans and the counts depend only on the tracks' final state,
 * never on the order their predictions and track events arrived in.
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

  constructor(
    private readonly db: SqlDriver,
    private readonly options: SqlAggregateStoreOptions,
  ) {}

  async migrate(): Promise<void> {
    await this.db.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
    );
    const done = new Set(
      (await this.db.all<{ version: number }>(`SELECT version FROM schema_migrations`)).map((r) => Number(r.version)),
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await this.db.transaction(async (tx) => {
        for (const statement of m.statements) await tx.exec(statement);
        await tx.run(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, [
          m.version,
          m.name,
          Date.now(),
        ]);
      });
    }
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
    if (!mark) {
      await tx.run(`INSERT INTO ${watermarks} (camera_id, max_ts, late_events) VALUES (?, ?, 0)`, [cameraId, ts]);
      return false;
    }
    const maxTs = Number(mark.max_ts);
    if (ts < maxTs - this.options.allowedLatenessMs) {
      await tx.run(`UPDATE ${watermarks} SET late_events = late_events + 1 WHERE camera_id = ?`, [cameraId]);
      return true;
    }
    if (ts > maxTs) await tx.run(`UPDATE ${watermarks} SET max_ts = ? WHERE camera_id = ?`, [ts, cameraId]);
    return false;
  }

  /** A classified crop: one more face in its frame's bucket, more vote evidence for its track. */
  private async applyPrediction(tx: SqlDriver, r: PredictionRecord): Promise<void> {
    const old = await this.lockTrack(tx, r.cameraId, r.trackId);
    const crops = (old?.crops ?? 0) + 1;
    const sumProbMale = (old?.sumProbMale ?? 0) + r.probMale;
    const next: Track = {
      ...(old ?? NEW_TRACK),
      // The crop's frame lies inside the track's lifetime: it only widens a track known from predictions alone.
      firstTs: old ? Math.min(old.firstTs, r.frameTs) : r.frameTs,
      lastTs: old ? Math.max(old.lastTs, r.frameTs) : r.frameTs,
      crops,
      sumProbMale,
      vote: this.options.voter(crops, sumProbMale),
    };
    await this.writeTrack(tx, r.cameraId, r.trackId, next);
    for (const size of BUCKET_SIZES) {
      await this.bump(tx, r.cameraId, size, floorTo(r.frameTs, BUCKET_MS[size]), { faces: 1 });
    }
    await this.moveVisitor(tx, r.cameraId, old, next);
  }

  /**
   * A track's lifetime: every field merges as min or max, so a replay, a duplicate or any order of
   * started / heartbeat / ended (and of the track's predictions) ends in the same row and buckets.
   */
  private async applyTrackEvent(tx: SqlDriver, e: TrackEventRecord): Promise<void> {
    const old = await this.lockTrack(tx, e.cameraId, e.trackId);
    const next: Track = {
      ...(old ?? NEW_TRACK),
      firstTs: old ? Math.min(old.firstTs, e.firstSeenTs) : e.firstSeenTs,
      lastTs: old ? Math.max(old.lastTs, e.lastSeenTs) : e.lastSeenTs,
      frames: Math.max(old?.frames ?? 0, e.frames),
      largestFacePx: Math.max(old?.largestFacePx ?? 0, e.largestFacePx),
      ended: (old?.ended ?? false) || e.ended,
      endReason: e.endReason ?? old?.endReason ?? null,
      unit: e.unit,
    };
    await this.writeTrack(tx, e.cameraId, e.trackId, next);
    await this.moveVisitor(tx, e.cameraId, old, next);
  }

  /**
   * The track as committed, locked until this transaction ends; undefined = nobody has created it.
   *
   * Why not a plain SELECT: every merge is read, modify, write, and moveVisitor's +1 / -1 trust the
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

  /**
   * A new track is one more visitor in its first-sighting buckets; a known one whose first sighting
   * or vote changed moves out of the old (bucket, gender) into the new one.
   */
  private async moveVisitor(tx: SqlDriver, cameraId: string, old: Track | undefined, next: Track): Promise<void> {
    for (const size of BUCKET_SIZES) {
      const ms = BUCKET_MS[size];
      const newBucket = floorTo(next.firstTs, ms);
      if (old) {
        const oldBucket = floorTo(old.firstTs, ms);
        if (oldBucket === newBucket && old.vote === next.vote) continue;
        await this.bump(tx, cameraId, size, oldBucket, { visitors: -1, [old.vote]: -1 });
      }
      await this.bump(tx, cameraId, size, newBucket, { visitors: 1, [next.vote]: 1 });
    }
  }

  private async bump(
    tx: SqlDriver,
    cameraId: string,
    size: string,
    bucketStart: number,
    delta: Partial<Record<'faces' | 'visitors' | VotedGender, number>>,
  ): Promise<void> {
    const d = (k: keyof typeof delta): number => delta[k] ?? 0;
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
