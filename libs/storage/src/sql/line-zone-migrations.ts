import type { Migration } from './migrations';

/**
 * The line and zone tables, kept apart from the aggregate store's history
 * (MIGRATIONS) so the two evolve independently; versions 101+ share the one
 * schema_migrations table and never collide with it. Append only.
 */
export const LINE_ZONE_MIGRATIONS: readonly Migration[] = [
  {
    version: 101,
    name: 'line-crossings-and-zone-visits',
    statements: [
      // One row per crossing, keyed by its event id: a redelivered crossing finds its row.
      `CREATE TABLE line_crossings (
         event_id TEXT PRIMARY KEY,
         camera_id TEXT NOT NULL,
         line_name TEXT NOT NULL,
         track_id TEXT NOT NULL,
         direction TEXT NOT NULL,
         ts BIGINT NOT NULL
       )`,
      `CREATE INDEX line_crossings_ts ON line_crossings (ts, camera_id)`,
      // One row per stay: the entry and the exit are two events that may come in any order.
      `CREATE TABLE zone_visits (
         camera_id TEXT NOT NULL,
         zone_name TEXT NOT NULL,
         track_id TEXT NOT NULL,
         entered_ts BIGINT NOT NULL,
         exited_ts BIGINT,
         PRIMARY KEY (camera_id, zone_name, track_id, entered_ts)
       )`,
      `CREATE INDEX zone_visits_entered ON zone_visits (entered_ts)`,
      `CREATE INDEX zone_visits_open ON zone_visits (exited_ts)`,
    ],
  },
  {
    version: 102,
    name: 'line-and-zone-rollups',
    statements: [
      // What retention folds the raw rows into before it deletes them (with their people's votes
      // then final): counts only, per UTC hour, so door counts outlive analytics.minuteRetentionDays.
      `CREATE TABLE line_crossing_hours (
         camera_id TEXT NOT NULL,
         line_name TEXT NOT NULL,
         direction TEXT NOT NULL,
         hour_start BIGINT NOT NULL,
         vote TEXT NOT NULL,
         crossings INTEGER NOT NULL,
         PRIMARY KEY (camera_id, line_name, direction, hour_start, vote)
       )`,
      `CREATE INDEX line_crossing_hours_start ON line_crossing_hours (hour_start)`,
      // Entries by the hour they entered in, and the summed stay of those that left.
      `CREATE TABLE zone_visit_hours (
         camera_id TEXT NOT NULL,
         zone_name TEXT NOT NULL,
         hour_start BIGINT NOT NULL,
         vote TEXT NOT NULL,
         entries INTEGER NOT NULL,
         dwell_ms BIGINT NOT NULL,
         stays INTEGER NOT NULL,
         PRIMARY KEY (camera_id, zone_name, hour_start, vote)
       )`,
      `CREATE INDEX zone_visit_hours_start ON zone_visit_hours (hour_start)`,
      // People inside at some moment of the bucket, per hour and per day: a day's figure is not
      // the sum of its hours (one stay spans several), so both are kept.
      `CREATE TABLE zone_occupancy_rollups (
         camera_id TEXT NOT NULL,
         zone_name TEXT NOT NULL,
         bucket_ms BIGINT NOT NULL,
         bucket_start BIGINT NOT NULL,
         inside INTEGER NOT NULL,
         PRIMARY KEY (camera_id, zone_name, bucket_ms, bucket_start)
       )`,
      `CREATE INDEX zone_occupancy_rollups_start ON zone_occupancy_rollups (bucket_ms, bucket_start)`,
    ],
  },
];
