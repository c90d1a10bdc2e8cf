/**
 * Schema history, shared by SQLite and PostgreSQL (only portable SQL here).
 * Append only once released: a shipped migration is never edited.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'aggregates',
    statements: [
      // Idempotency keys: a redelivered prediction finds its id and changes nothing.
      `CREATE TABLE applied_predictions (
         prediction_id TEXT PRIMARY KEY,
         applied_at BIGINT NOT NULL
       )`,
      `CREATE INDEX applied_predictions_at ON applied_predictions (applied_at)`,
      // Anonymous per-person evidence: no image, no embedding, only sums.
      `CREATE TABLE tracks (
         camera_id TEXT NOT NULL,
         track_id TEXT NOT NULL,
         first_ts BIGINT NOT NULL,
         last_ts BIGINT NOT NULL,
         crops INTEGER NOT NULL,
         sum_prob_male DOUBLE PRECISION NOT NULL,
         vote TEXT NOT NULL,
         PRIMARY KEY (camera_id, track_id)
       )`,
      `CREATE INDEX tracks_first_ts ON tracks (first_ts)`,
      // Rollups kept per size so old minute rows can expire while hours and days stay.
      `CREATE TABLE buckets (
         camera_id TEXT NOT NULL,
         size TEXT NOT NULL,
         bucket_start BIGINT NOT NULL,
         faces INTEGER NOT NULL DEFAULT 0,
         visitors INTEGER NOT NULL DEFAULT 0,
         male INTEGER NOT NULL DEFAULT 0,
         female INTEGER NOT NULL DEFAULT 0,
         unknown INTEGER NOT NULL DEFAULT 0,
         PRIMARY KEY (size, bucket_start, camera_id)
       )`,
      // One camera's range without scanning every camera's rows.
      `CREATE INDEX buckets_camera ON buckets (size, camera_id, bucket_start)`,
      `CREATE TABLE camera_watermarks (
         camera_id TEXT PRIMARY KEY,
         max_ts BIGINT NOT NULL,
         late_events INTEGER NOT NULL DEFAULT 0
       )`,
    ],
  },
  {
    version: 2,
    name: 'track-lifetimes',
    statements: [
      // What ingest's track events carry. Defaults describe a v1 row truthfully: a track known only
      // from its predictions, no frame count, no face size, not known to have ended, unit unknown.
      `ALTER TABLE tracks ADD COLUMN frames INTEGER NOT NULL DEFAULT 0`,
      `ALTER TABLE tracks ADD COLUMN largest_face_px DOUBLE PRECISION NOT NULL DEFAULT 0`,
      `ALTER TABLE tracks ADD COLUMN ended INTEGER NOT NULL DEFAULT 0`,
      `ALTER TABLE tracks ADD COLUMN end_reason TEXT`,
      `ALTER TABLE tracks ADD COLUMN unit TEXT`,
      // Retention deletes tracks by last sighting.
      `CREATE INDEX tracks_last_ts ON tracks (last_ts)`,
      // Track event ids apart from prediction ids: two id spaces minted by different processes.
      `CREATE TABLE applied_track_events (
         event_id TEXT PRIMARY KEY,
         applied_at BIGINT NOT NULL
       )`,
      `CREATE INDEX applied_track_events_at ON applied_track_events (applied_at)`,
      // A watermark of their own: track events and predictions come on two topics consumed
      // independently, so one stream catching up on a backlog must not make the other's events late.
      `CREATE TABLE track_event_watermarks (
         camera_id TEXT PRIMARY KEY,
         max_ts BIGINT NOT NULL,
         late_events INTEGER NOT NULL DEFAULT 0
       )`,
    ],
  },
];
