import {
  BUCKET_MS,
  type AggregateStore,
  type ApplyResult,
  type PredictionRecord,
  type StatsQuery,
  type StatsRow,
} from '../aggregate-store.port';
import { MIGRATIONS } from './migrations';
import type { SqlDriver } from './sql-driver';

const MINUTE = BUCKET_MS.minute;

interface TrackBucketRow {
  camera_id: string;
  bucket_start: number | string;
  visitors: number | string;
  male: number | string;
  female: number | string;
}

interface FaceBucketRow {
  camera_id: string;
  bucket_start: number | string;
  faces: number | string;
}

/**
 * The one query layer over SQLite and PostgreSQL. Everything is written
 * once; the driver hides placeholders and transactions.
 */
export class SqlAggregateStore implements AggregateStore {
  constructor(private readonly db: SqlDriver) {}

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
    if (records.length === 0) return { applied: 0, duplicates: 0 };
    return this.db.transaction(async (tx) => {
      let applied = 0;
      const now = Date.now();
      for (const r of records) {
        // The id row and the aggregate updates commit together: a redelivered
        // prediction finds its id and changes nothing.
        const inserted = await tx.run(
          `INSERT INTO applied_predictions (prediction_id, applied_at) VALUES (?, ?) ON CONFLICT (prediction_id) DO NOTHING`,
          [r.predictionId, now],
        );
        if (inserted.changes === 0) continue;
        applied++;
        await tx.run(
          `INSERT INTO tracks (camera_id, track_id, first_ts, last_ts, crops, sum_prob_male) VALUES (?, ?, ?, ?, 1, ?)
           ON CONFLICT (camera_id, track_id) DO UPDATE SET
             first_ts = CASE WHEN excluded.first_ts < tracks.first_ts THEN excluded.first_ts ELSE tracks.first_ts END,
             last_ts = CASE WHEN excluded.last_ts > tracks.last_ts THEN excluded.last_ts ELSE tracks.last_ts END,
             crops = tracks.crops + 1,
             sum_prob_male = tracks.sum_prob_male + excluded.sum_prob_male`,
          [r.cameraId, r.trackId, r.frameTs, r.frameTs, r.probMale],
        );
        await tx.run(
          `INSERT INTO face_buckets (camera_id, bucket_start, faces) VALUES (?, ?, 1)
           ON CONFLICT (camera_id, bucket_start) DO UPDATE SET faces = face_buckets.faces + 1`,
          [r.cameraId, Math.floor(r.frameTs / MINUTE) * MINUTE],
        );
      }
      return { applied, duplicates: records.length - applied };
    });
  }

  async queryStats(q: StatsQuery): Promise<StatsRow[]> {
    const size = BUCKET_MS[q.bucket];
    const cams = q.cameraIds && q.cameraIds.length > 0 ? q.cameraIds : null;
    const camFilter = cams ? ` AND camera_id IN (${cams.map(() => '?').join(', ')})` : '';
    const camParams = cams ?? [];
    // A track belongs to the bucket of its first sighting; its gender is the
    // mean-probability vote with the minimum-evidence rule (TrackVote mirrors it).
    const tracks = await this.db.all<TrackBucketRow>(
      `SELECT camera_id, (first_ts / CAST(? AS BIGINT)) * CAST(? AS BIGINT) AS bucket_start,
              COUNT(*) AS visitors,
              SUM(CASE WHEN crops >= ? AND sum_prob_male / crops >= 0.5 + ? THEN 1 ELSE 0 END) AS male,
              SUM(CASE WHEN crops >= ? AND sum_prob_male / crops <= 0.5 - ? THEN 1 ELSE 0 END) AS female
         FROM tracks
        WHERE first_ts >= ? AND first_ts < ?${camFilter}
        GROUP BY camera_id, (first_ts / CAST(? AS BIGINT)) * CAST(? AS BIGINT)`,
      [size, size, q.vote.minEvidence, q.vote.minMargin, q.vote.minEvidence, q.vote.minMargin, q.from, q.to, ...camParams, size, size],
    );
    const faces = await this.db.all<FaceBucketRow>(
      `SELECT camera_id, (bucket_start / CAST(? AS BIGINT)) * CAST(? AS BIGINT) AS bucket_start, SUM(faces) AS faces
         FROM face_buckets
        WHERE bucket_start >= ? AND bucket_start < ?${camFilter}
        GROUP BY camera_id, (bucket_start / CAST(? AS BIGINT)) * CAST(? AS BIGINT)`,
      [size, size, q.from, q.to, ...camParams, size, size],
    );
    const rows = new Map<string, { cameraId: string; bucketStart: number; faces: number; visitors: number; male: number; female: number }>();
    const slot = (cameraId: string, bucketStart: number) => {
      const k = `${cameraId}\u0000${bucketStart}`;
      let row = rows.get(k);
      if (!row) {
        row = { cameraId, bucketStart, faces: 0, visitors: 0, male: 0, female: 0 };
        rows.set(k, row);
      }
      return row;
    };
    for (const f of faces) slot(f.camera_id, Number(f.bucket_start)).faces = Number(f.faces);
    for (const t of tracks) {
      const row = slot(t.camera_id, Number(t.bucket_start));
      row.visitors = Number(t.visitors);
      row.male = Number(t.male);
      row.female = Number(t.female);
    }
    return [...rows.values()]
      .map((r) => ({ ...r, unknown: r.visitors - r.male - r.female }))
      .sort((a, b) => a.bucketStart - b.bucketStart || a.cameraId.localeCompare(b.cameraId));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
