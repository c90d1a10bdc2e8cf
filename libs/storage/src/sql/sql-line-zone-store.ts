import type { VotedGender } from '../aggregate-store.port';
import type {
  CrossingCountRow,
  LineZoneRange,
  LineZoneRecord,
  LineZoneStore,
  OccupancyRow,
  ZoneVisitRow,
} from '../line-zone-store.port';
import { LINE_ZONE_MIGRATIONS } from './line-zone-migrations';
import { runMigrations } from './run-migrations';
import type { SqlDriver, SqlValue } from './sql-driver';

type Num = number | string;

/**
 * Line crossings and zone visits on the same database (and driver) as the
 * aggregates: the gender of a crossing or a visit is read from the `tracks`
 * row of its person when counted, so it is always the vote their visitor
 * count carries. Raw rows bucketed on read: a late or replayed event lands in
 * its bucket, and a natural key makes it count once.
 */
export class SqlLineZoneStore implements LineZoneStore {
  constructor(private readonly db: SqlDriver) {}

  migrate(): Promise<void> {
    return runMigrations(this.db, LINE_ZONE_MIGRATIONS);
  }

  apply(records: readonly LineZoneRecord[]): Promise<{ applied: number; duplicates: number }> {
    if (records.length === 0) return Promise.resolve({ applied: 0, duplicates: 0 });
    return this.db.transaction(async (tx) => {
      let applied = 0;
      let duplicates = 0;
      for (const r of records) {
        const { changes } = await this.applyOne(tx, r);
        if (changes > 0) applied++;
        else duplicates++;
      }
      return { applied, duplicates };
    });
  }

  private applyOne(tx: SqlDriver, r: LineZoneRecord): Promise<{ changes: number }> {
    switch (r.kind) {
      case 'line-crossed':
        return tx.run(
          `INSERT INTO line_crossings (event_id, camera_id, line_name, track_id, direction, ts) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (event_id) DO NOTHING`,
          [r.eventId, r.cameraId, r.name, r.trackId, r.direction, r.ts],
        );
      case 'zone-entered':
        return tx.run(
          `INSERT INTO zone_visits (camera_id, zone_name, track_id, entered_ts, exited_ts) VALUES (?, ?, ?, ?, NULL)
           ON CONFLICT (camera_id, zone_name, track_id, entered_ts) DO NOTHING`,
          [r.cameraId, r.name, r.trackId, r.ts],
        );
      case 'zone-exited':
        // The exit may come before its entry (two events, any order): either way one row, one exit time.
        return tx.run(
          `INSERT INTO zone_visits (camera_id, zone_name, track_id, entered_ts, exited_ts) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (camera_id, zone_name, track_id, entered_ts) DO UPDATE SET exited_ts = excluded.exited_ts
           WHERE zone_visits.exited_ts IS NULL OR zone_visits.exited_ts <> excluded.exited_ts`,
          [r.cameraId, r.name, r.trackId, r.enteredTs, r.ts],
        );
    }
  }

  async crossings(range: LineZoneRange, bucketMs: number): Promise<CrossingCountRow[]> {
    const { clause, params } = cameraFilter('c.camera_id', range.cameraIds);
    const rows = await this.db.all<{
      camera_id: string;
      line_name: string;
      direction: 'in' | 'out';
      bucket_start: Num;
      vote: VotedGender;
      n: Num;
    }>(
      `SELECT c.camera_id, c.line_name, c.direction, c.ts - c.ts % ? AS bucket_start,
              COALESCE(t.vote, 'unknown') AS vote, COUNT(*) AS n
         FROM line_crossings c
         LEFT JOIN tracks t ON t.camera_id = c.camera_id AND t.track_id = c.track_id
        WHERE c.ts >= ? AND c.ts < ?${clause}
        GROUP BY 1, 2, 3, 4, 5
        ORDER BY 4, 1, 2, 3`,
      [bucketMs, range.from, range.to, ...params],
    );
    return rows.map((r) => ({
      cameraId: r.camera_id,
      name: r.line_name,
      direction: r.direction,
      bucketStart: Number(r.bucket_start),
      vote: r.vote,
      count: Number(r.n),
    }));
  }

  async zoneVisits(range: LineZoneRange): Promise<ZoneVisitRow[]> {
    const { clause, params } = cameraFilter('v.camera_id', range.cameraIds);
    const rows = await this.db.all<{
      camera_id: string;
      zone_name: string;
      entered_ts: Num;
      exited_ts: Num | null;
      vote: VotedGender;
    }>(
      `SELECT v.camera_id, v.zone_name, v.entered_ts, v.exited_ts, COALESCE(t.vote, 'unknown') AS vote
         FROM zone_visits v
         LEFT JOIN tracks t ON t.camera_id = v.camera_id AND t.track_id = v.track_id
        WHERE v.entered_ts < ? AND (v.exited_ts IS NULL OR v.exited_ts >= ?)${clause}
        ORDER BY v.entered_ts`,
      [range.to, range.from, ...params],
    );
    return rows.map((r) => ({
      cameraId: r.camera_id,
      name: r.zone_name,
      enteredTs: Number(r.entered_ts),
      exitedTs: r.exited_ts === null ? null : Number(r.exited_ts),
      vote: r.vote,
    }));
  }

  async occupancy(cameraIds: readonly string[] | undefined, aliveSince: number): Promise<OccupancyRow[]> {
    const { clause, params } = cameraFilter('v.camera_id', cameraIds);
    const rows = await this.db.all<{ camera_id: string; zone_name: string; n: Num }>(
      `SELECT v.camera_id, v.zone_name, COUNT(*) AS n
         FROM zone_visits v
         LEFT JOIN tracks t ON t.camera_id = v.camera_id AND t.track_id = v.track_id
        WHERE v.exited_ts IS NULL
          AND COALESCE(t.ended, 0) = 0
          AND (v.entered_ts >= ? OR t.last_ts >= ?)${clause}
        GROUP BY v.camera_id, v.zone_name`,
      [aliveSince, aliveSince, ...params],
    );
    return rows.map((r) => ({ cameraId: r.camera_id, name: r.zone_name, inside: Number(r.n) }));
  }

  zoneNames(since: number): Promise<Array<{ cameraId: string; name: string }>> {
    return this.db
      .all<{ camera_id: string; zone_name: string }>(
        `SELECT DISTINCT camera_id, zone_name FROM zone_visits WHERE entered_ts >= ? OR exited_ts IS NULL`,
        [since],
      )
      .then((rows) => rows.map((r) => ({ cameraId: r.camera_id, name: r.zone_name })));
  }

  applyRetention(before: number): Promise<{ crossings: number; visits: number }> {
    return this.db.transaction(async (tx) => {
      const crossings = await tx.run(`DELETE FROM line_crossings WHERE ts < ?`, [before]);
      const visits = await tx.run(`DELETE FROM zone_visits WHERE COALESCE(exited_ts, entered_ts) < ?`, [before]);
      return { crossings: crossings.changes, visits: visits.changes };
    });
  }
}

function cameraFilter(column: string, cameraIds?: readonly string[]): { clause: string; params: SqlValue[] } {
  if (!cameraIds) return { clause: '', params: [] };
  if (cameraIds.length === 0) return { clause: ' AND 1 = 0', params: [] };
  return { clause: ` AND ${column} IN (${cameraIds.map(() => '?').join(', ')})`, params: [...cameraIds] };
}
