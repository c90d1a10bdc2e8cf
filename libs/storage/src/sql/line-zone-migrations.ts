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
];
