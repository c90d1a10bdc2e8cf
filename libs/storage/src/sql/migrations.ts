/**
 * Schema history, shared by SQLite and PostgreSQL (only portable SQL here).
 * Append only: a shipped migration is never edited.
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
      `CREATE TABLE applied_predictions (
         prediction_id TEXT PRIMARY KEY,
         applied_at BIGINT NOT NULL
       )`,
      `CREATE TABLE tracks (
         camera_id TEXT NOT NULL,
         track_id TEXT NOT NULL,
         first_ts BIGINT NOT NULL,
         last_ts BIGINT NOT NULL,
         crops INTEGER NOT NULL,
         sum_prob_male DOUBLE PRECISION NOT NULL,
         PRIMARY KEY (camera_id, track_id)
       )`,
      `CREATE INDEX tracks_first_ts ON tracks (first_ts)`,
      `CREATE TABLE face_buckets (
         camera_id TEXT NOT NULL,
         bucket_start BIGINT NOT NULL,
         faces INTEGER NOT NULL,
         PRIMARY KEY (camera_id, bucket_start)
       )`,
      `CREATE INDEX face_buckets_start ON face_buckets (bucket_start)`,
    ],
  },
];
