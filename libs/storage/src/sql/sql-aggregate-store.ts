import {
  BUCKET_MS,
  BUCKET_SIZES,
  type AggregateStore,
  type ApplyResult,
  type DwellBucketRow,
  type DwellQuery,
  type PredictionRecord,
  type RetentionResult,
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

interface TrackRow {
  first_ts: number | string;
  last_ts: number | string;
  crops: number | string;
  sum_prob_male: number | string;
  vote: VotedGender;
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

const floorTo = (ts: number, size: number): number => Math.floor(ts / size) * size;

/**
 * The one query layer over SQLite and PostgreSQL: written once, the driver
 * hides placeholders and transactions. Buckets are maintained incrementally:
 * when a track's vote changes, its first-sighting buckets move one count from
 * the old gender to the new one, so reads are plain range scans.
 */
export class SqlAggregateStore implements AggregateStore {
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

  async applyPredictions(records: readonly PredictionRecord[]): Promise<ApplyResult> {
    if (records.length === 0) return { applied: 0, duplicates: 0, late: 0 };
    return this.db.transaction(async (tx) => {
      let applied = 0;
      let duplicates = 0;
      let late = 0;
      const now = Date.now();
      for (const r of records) {
        const inserted = await tx.run(
          `INSERT INTO applied_predictions (prediction_id, applied_at) VALUES (?, ?) ON CONFLICT (prediction_id) DO NOTHING`,
          [r.predictionId, now],
        );
        if (inserted.changes === 0) {
          duplicates++;
          continue;
        }
        if (await this.isLate(tx, r)) {
          late++;
          continue;
        }
        applied++;
        await this.applyOne(tx, r);
      }
      return { applied, duplicates, late };
    });
  }

  /** Advances the camera's watermark; an event further behind it than the allowed lateness is late. */
  private async isLate(tx: SqlDriver, r: PredictionRecord): Promise<boolean> {
    const [mark] = await tx.all<{ max_ts: number | string }>(
      `SELECT max_ts FROM camera_watermarks WHERE camera_id = ?`,
      [r.cameraId],
    );
    if (!mark) {
      await tx.run(`INSERT INTO camera_watermarks (camera_id, max_ts, late_events) VALUES (?, ?, 0)`, [
        r.cameraId,
        r.frameTs,
      ]);
      return false;
    }
    const maxTs = Number(mark.max_ts);
    if (r.frameTs < maxTs - this.options.allowedLatenessMs) {
      await tx.run(`UPDATE camera_watermarks SET late_events = late_events + 1 WHERE camera_id = ?`, [r.cameraId]);
      return true;
    }
    if (r.frameTs > maxTs)
      await tx.run(`UPDATE camera_watermarks SET max_ts = ? WHERE camera_id = ?`, [r.frameTs, r.cameraId]);
    return false;
  }

  private async applyOne(tx: SqlDriver, r: PredictionRecord): Promise<void> {
    const [old] = await tx.all<TrackRow>(
      `SELECT first_ts, last_ts, crops, sum_prob_male, vote FROM tracks WHERE camera_id = ? AND track_id = ?`,
      [r.cameraId, r.trackId],
    );
    const crops = (old ? Number(old.crops) : 0) + 1;
    const sum = (old ? Number(old.sum_prob_male) : 0) + r.probMale;
    const firstTs = old ? Math.min(Number(old.first_ts), r.frameTs) : r.frameTs;
    const lastTs = old ? Math.max(Number(old.last_ts), r.frameTs) : r.frameTs;
    const vote = this.options.voter(crops, sum);
    if (old) {
      await tx.run(
        `UPDATE tracks SET first_ts = ?, last_ts = ?, crops = ?, sum_prob_male = ?, vote = ? WHERE camera_id = ? AND track_id = ?`,
        [firstTs, lastTs, crops, sum, vote, r.cameraId, r.trackId],
      );
    } else {
      await tx.run(
        `INSERT INTO tracks (camera_id, track_id, first_ts, last_ts, crops, sum_prob_male, vote) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [r.cameraId, r.trackId, firstTs, lastTs, crops, sum, vote],
      );
    }
    for (const size of BUCKET_SIZES) {
      const ms = BUCKET_MS[size];
      await this.bump(tx, r.cameraId, size, floorTo(r.frameTs, ms), { faces: 1 });
      const oldBucket = old ? floorTo(Number(old.first_ts), ms) : null;
      const newBucket = floorTo(firstTs, ms);
      if (old && oldBucket === newBucket && old.vote === vote) continue;
      // The person moves: out of the old (bucket, gender), into the new one.
      if (old && oldBucket !== null) await this.bump(tx, r.cameraId, size, oldBucket, { visitors: -1, [old.vote]: -1 });
      await this.bump(tx, r.cameraId, size, newBucket, { visitors: 1, [vote]: 1 });
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
      `SELECT SUM(late_events) AS n FROM camera_watermarks WHERE 1 = 1${clause}`,
      params,
    );
    return Number(row?.n ?? 0);
  }

  async applyRetention(before: number): Promise<RetentionResult> {
    return this.db.transaction(async (tx) => {
      const minuteBuckets = await tx.run(`DELETE FROM buckets WHERE size = 'minute' AND bucket_start < ?`, [before]);
      const tracks = await tx.run(`DELETE FROM tracks WHERE last_ts < ?`, [before]);
      // Ids only matter while a redelivery can still arrive; far older than the bus retention.
      const ids = await tx.run(`DELETE FROM applied_predictions WHERE applied_at < ?`, [before]);
      return { minuteBuckets: minuteBuckets.changes, tracks: tracks.changes, predictionIds: ids.changes };
    });
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
