import type { VotedGender } from '../aggregate-store.port';
import type {
  CrossingCountRow,
  LineZoneRange,
  LineZoneRecord,
  LineZoneStore,
  OccupancyRow,
  ZoneRollups,
  ZoneVisitRow,
} from '../line-zone-store.port';
import { LINE_ZONE_MIGRATIONS } from './line-zone-migrations';
import { runMigrations } from './run-migrations';
import type { SqlDriver, SqlValue } from './sql-driver';

type Num = number | string;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const floorTo = (ts: number, ms: number): number => ts - (ts % ms);

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
    const rows = await rawCrossings(this.db, bucketMs, range);
    const rolled = rollsUp(bucketMs) ? await rolledUpCrossings(this.db, bucketMs, range) : [];
    // A bucket at the retention boundary has some crossings raw and the rest rolled up: one row, summed.
    const merged = new Map<string, CrossingCountRow>();
    for (const r of [...rows, ...rolled]) {
      const row: CrossingCountRow = {
        cameraId: r.camera_id,
        name: r.line_name,
        direction: r.direction,
        bucketStart: Number(r.bucket_start),
        vote: r.vote,
        count: Number(r.n),
      };
      const key = JSON.stringify([row.bucketStart, row.cameraId, row.name, row.direction, row.vote]);
      const seen = merged.get(key);
      merged.set(key, seen ? { ...seen, count: seen.count + row.count } : row);
    }
    return [...merged.values()].sort(
      (a, b) =>
        a.bucketStart - b.bucketStart ||
        a.cameraId.localeCompare(b.cameraId) ||
        a.name.localeCompare(b.name) ||
        a.direction.localeCompare(b.direction) ||
        a.vote.localeCompare(b.vote),
    );
  }

  zoneVisits(range: LineZoneRange): Promise<ZoneVisitRow[]> {
    const { clause, params } = cameraFilter('v.camera_id', range.cameraIds);
    return visitsWithTracks(this.db, `v.entered_ts < ? AND (v.exited_ts IS NULL OR v.exited_ts >= ?)${clause}`, [
      range.to,
      range.from,
      ...params,
    ]);
  }

  async zoneRollups(range: LineZoneRange, bucketMs: number): Promise<ZoneRollups> {
    if (!rollsUp(bucketMs)) return { entries: [], occupancy: [] };
    const { clause, params } = cameraFilter('camera_id', range.cameraIds);
    const entries = await this.db.all<{
      camera_id: string;
      zone_name: string;
      bucket_start: Num;
      vote: VotedGender;
      entries: Num;
      dwell_ms: Num;
      stays: Num;
    }>(
      `SELECT camera_id, zone_name, hour_start - hour_start % ? AS bucket_start, vote,
              SUM(entries) AS entries, SUM(dwell_ms) AS dwell_ms, SUM(stays) AS stays
         FROM zone_visit_hours
        WHERE hour_start >= ? AND hour_start < ?${clause}
        GROUP BY 1, 2, 3, 4
        ORDER BY 3, 1, 2, 4`,
      [bucketMs, range.from, range.to, ...params],
    );
    // Occupancy is kept per hour and per day as such; a day is not the sum of its hours.
    const occupancy = await this.db.all<{ camera_id: string; zone_name: string; bucket_start: Num; inside: Num }>(
      `SELECT camera_id, zone_name, bucket_start, inside
         FROM zone_occupancy_rollups
        WHERE bucket_ms = ? AND bucket_start >= ? AND bucket_start < ?${clause}
        ORDER BY 3, 1, 2`,
      [bucketMs, range.from, range.to, ...params],
    );
    return {
      entries: entries.map((r) => ({
        cameraId: r.camera_id,
        name: r.zone_name,
        bucketStart: Number(r.bucket_start),
        vote: r.vote,
        entries: Number(r.entries),
        dwellMs: Number(r.dwell_ms),
        stays: Number(r.stays),
      })),
      occupancy: occupancy.map((r) => ({
        cameraId: r.camera_id,
        name: r.zone_name,
        bucketStart: Number(r.bucket_start),
        inside: Number(r.inside),
      })),
    };
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
      await foldCrossings(tx, before);
      await foldVisits(tx, before);
      const crossings = await tx.run(`DELETE FROM line_crossings WHERE ts < ?`, [before]);
      const visits = await tx.run(`DELETE FROM zone_visits WHERE COALESCE(exited_ts, entered_ts) < ?`, [before]);
      return { crossings: crossings.changes, visits: visits.changes };
    });
  }
}

interface CrossingCountSqlRow {
  camera_id: string;
  line_name: string;
  direction: 'in' | 'out';
  bucket_start: Num;
  vote: VotedGender;
  n: Num;
}

/** Raw crossings counted per camera, line, direction, bucket and their person's vote of now. */
function rawCrossings(db: SqlDriver, bucketMs: number, range: LineZoneRange): Promise<CrossingCountSqlRow[]> {
  const { clause, params } = cameraFilter('c.camera_id', range.cameraIds);
  return db.all<CrossingCountSqlRow>(
    `SELECT c.camera_id, c.line_name, c.direction, c.ts - c.ts % ? AS bucket_start,
            COALESCE(t.vote, 'unknown') AS vote, COUNT(*) AS n
       FROM line_crossings c
       LEFT JOIN tracks t ON t.camera_id = c.camera_id AND t.track_id = c.track_id
      WHERE c.ts >= ? AND c.ts < ?${clause}
      GROUP BY 1, 2, 3, 4, 5`,
    [bucketMs, range.from, range.to, ...params],
  );
}

/** Crossings retention has folded into hours, regrouped into buckets of `bucketMs` (a whole number of hours). */
function rolledUpCrossings(db: SqlDriver, bucketMs: number, range: LineZoneRange): Promise<CrossingCountSqlRow[]> {
  const { clause, params } = cameraFilter('camera_id', range.cameraIds);
  return db.all<CrossingCountSqlRow>(
    `SELECT camera_id, line_name, direction, hour_start - hour_start % ? AS bucket_start, vote, SUM(crossings) AS n
       FROM line_crossing_hours
      WHERE hour_start >= ? AND hour_start < ?${clause}
      GROUP BY 1, 2, 3, 4, 5`,
    [bucketMs, range.from, range.to, ...params],
  );
}

/** Hour and day buckets read the rollups; minutes are not kept past retention. */
function rollsUp(bucketMs: number): boolean {
  return bucketMs >= HOUR_MS && bucketMs % HOUR_MS === 0;
}

async function foldCrossings(tx: SqlDriver, before: number): Promise<void> {
  // Contract times are never negative: from 0 is every crossing before `before`.
  const hours = await rawCrossings(tx, HOUR_MS, { from: 0, to: before });
  for (const h of hours)
    await tx.run(
      `INSERT INTO line_crossing_hours (camera_id, line_name, direction, hour_start, vote, crossings)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (camera_id, line_name, direction, hour_start, vote)
       DO UPDATE SET crossings = line_crossing_hours.crossings + excluded.crossings`,
      [h.camera_id, h.line_name, h.direction, Number(h.bucket_start), h.vote, Number(h.n)],
    );
}

/** Zone visits with their person's vote and last sighting (from `tracks`), oldest entry first. */
async function visitsWithTracks(db: SqlDriver, where: string, params: readonly SqlValue[]): Promise<ZoneVisitRow[]> {
  const rows = await db.all<{
    camera_id: string;
    zone_name: string;
    entered_ts: Num;
    exited_ts: Num | null;
    vote: VotedGender;
    last_ts: Num | null;
    ended: Num | boolean | null;
  }>(
    `SELECT v.camera_id, v.zone_name, v.entered_ts, v.exited_ts, COALESCE(t.vote, 'unknown') AS vote,
            t.last_ts, t.ended
       FROM zone_visits v
       LEFT JOIN tracks t ON t.camera_id = v.camera_id AND t.track_id = v.track_id
      WHERE ${where}
      ORDER BY v.entered_ts`,
    params,
  );
  return rows.map((r) => ({
    cameraId: r.camera_id,
    name: r.zone_name,
    enteredTs: Number(r.entered_ts),
    exitedTs: r.exited_ts === null ? null : Number(r.exited_ts),
    vote: r.vote,
    track: r.last_ts === null ? null : { lastSeenTs: Number(r.last_ts), ended: Number(r.ended) === 1 },
  }));
}

async function foldVisits(tx: SqlDriver, before: number): Promise<void> {
  const visits = await visitsWithTracks(tx, `COALESCE(v.exited_ts, v.entered_ts) < ?`, [before]);
  const entries = new Map<string, { entries: number; dwellMs: number; stays: number }>();
  const inside = new Map<string, number>();
  for (const { cameraId, name, enteredTs, exitedTs, vote, track } of visits) {
    const key = JSON.stringify([cameraId, name, floorTo(enteredTs, HOUR_MS), vote]);
    const e = entries.get(key) ?? { entries: 0, dwellMs: 0, stays: 0 };
    e.entries++;
    if (exitedTs !== null) {
      e.dwellMs += exitedTs - enteredTs;
      e.stays++;
    }
    entries.set(key, e);
    // A stay whose exit was lost ends at its person's last sighting, not at retention.
    const end = Math.max(enteredTs, exitedTs ?? track?.lastSeenTs ?? enteredTs);
    for (const ms of [HOUR_MS, DAY_MS])
      for (let b = floorTo(enteredTs, ms); b <= end; b += ms) {
        const id = JSON.stringify([cameraId, name, ms, b]);
        inside.set(id, (inside.get(id) ?? 0) + 1);
      }
  }
  for (const [key, e] of entries) {
    const [cameraId, zone, hourStart, vote] = JSON.parse(key) as [string, string, number, VotedGender];
    await tx.run(
      `INSERT INTO zone_visit_hours (camera_id, zone_name, hour_start, vote, entries, dwell_ms, stays)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (camera_id, zone_name, hour_start, vote) DO UPDATE SET
         entries = zone_visit_hours.entries + excluded.entries,
         dwell_ms = zone_visit_hours.dwell_ms + excluded.dwell_ms,
         stays = zone_visit_hours.stays + excluded.stays`,
      [cameraId, zone, hourStart, vote, e.entries, e.dwellMs, e.stays],
    );
  }
  for (const [id, n] of inside) {
    const [cameraId, zone, bucketMs, bucketStart] = JSON.parse(id) as [string, string, number, number];
    await tx.run(
      `INSERT INTO zone_occupancy_rollups (camera_id, zone_name, bucket_ms, bucket_start, inside)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (camera_id, zone_name, bucket_ms, bucket_start)
       DO UPDATE SET inside = zone_occupancy_rollups.inside + excluded.inside`,
      [cameraId, zone, bucketMs, bucketStart, n],
    );
  }
}

function cameraFilter(column: string, cameraIds?: readonly string[]): { clause: string; params: SqlValue[] } {
  if (!cameraIds) return { clause: '', params: [] };
  if (cameraIds.length === 0) return { clause: ' AND 1 = 0', params: [] };
  return { clause: ` AND ${column} IN (${cameraIds.map(() => '?').join(', ')})`, params: [...cameraIds] };
}
