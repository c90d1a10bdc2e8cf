/**
 * Hour and day buckets in each camera's time zone, built from the store's UTC rollups.
 *
 * The store keeps minutes (for analytics.minuteRetentionDays) and UTC hours (for good). A UTC
 * hour that lies inside one local hour (every zone whose offset is a whole number of hours,
 * DST included) is taken whole; in zones such as Asia/Kolkata (+05:30) a UTC hour straddles two
 * local hours, so its minutes are regrouped instead. Local days are the sums of their local
 * hours. Visitors are counted in the bucket of their first sighting, so these sums are exact.
 *
 * Past the minute retention, a UTC hour of a fractional-offset zone has no minutes left: it is
 * then counted whole in the local hour its start falls in (30 or 45 minutes early).
 */
import type { BucketSize, StatsRow } from '@crowdlens/storage';
import type { ZonedTime } from './zoned-time';

const HOUR = 3_600_000;

type CountKey = 'faces' | 'visitors' | 'male' | 'female' | 'unknown';
type MutableRow = { -readonly [K in keyof StatsRow]: StatsRow[K] };
const COUNT_KEYS: readonly CountKey[] = ['faces', 'visitors', 'male', 'female', 'unknown'];

export interface LocalLevel {
  readonly size: BucketSize;
  readonly rows: StatsRow[];
}

/** What the store returned for a range: its minutes and its UTC hours. */
export interface StoredRollups {
  readonly minute: readonly StatsRow[];
  readonly hour: readonly StatsRow[];
}

class BucketSums {
  private readonly rows = new Map<string, MutableRow>();

  add(cameraId: string, bucketStart: number, from: StatsRow): void {
    const key = `${cameraId}@${bucketStart}`;
    let row = this.rows.get(key);
    if (!row) {
      row = { cameraId, bucketStart, faces: 0, visitors: 0, male: 0, female: 0, unknown: 0 };
      this.rows.set(key, row);
    }
    for (const c of COUNT_KEYS) row[c] += from[c];
  }

  sorted(): StatsRow[] {
    return [...this.rows.values()].sort(
      (a, b) => a.bucketStart - b.bucketStart || a.cameraId.localeCompare(b.cameraId),
    );
  }
}

/** True when the UTC hour starting at `utcHour` lies inside a single local hour of the zone. */
function wholeInLocalHour(zone: ZonedTime, utcHour: number): boolean {
  return zone.hourStart(utcHour) === utcHour && zone.hourStart(utcHour + HOUR - 1) === utcHour;
}

/**
 * The levels releaseConsistently works through, finest first, up to `upTo`: the stored minutes,
 * then local hours, then local days, each in the zone of its camera.
 */
export function localLevels(
  stored: StoredRollups,
  upTo: BucketSize,
  zoneOf: (cameraId: string) => ZonedTime,
): LocalLevel[] {
  const levels: LocalLevel[] = [{ size: 'minute', rows: [...stored.minute] }];
  if (upTo === 'minute') return levels;

  const hours = new BucketSums();
  const withMinutes = new Set(stored.minute.map((m) => `${m.cameraId}@${m.bucketStart - (m.bucketStart % HOUR)}`));
  for (const h of stored.hour) {
    const zone = zoneOf(h.cameraId);
    const whole = wholeInLocalHour(zone, h.bucketStart);
    if (whole || !withMinutes.has(`${h.cameraId}@${h.bucketStart}`)) {
      hours.add(h.cameraId, zone.hourStart(h.bucketStart), h);
    }
  }
  for (const m of stored.minute) {
    const zone = zoneOf(m.cameraId);
    if (!wholeInLocalHour(zone, m.bucketStart - (m.bucketStart % HOUR))) {
      hours.add(m.cameraId, zone.hourStart(m.bucketStart), m);
    }
  }
  const hourRows = hours.sorted();
  levels.push({ size: 'hour', rows: hourRows });
  if (upTo === 'hour') return levels;

  const days = new BucketSums();
  for (const h of hourRows) days.add(h.cameraId, zoneOf(h.cameraId).dayStart(h.bucketStart), h);
  levels.push({ size: 'day', rows: days.sorted() });
  return levels;
}
