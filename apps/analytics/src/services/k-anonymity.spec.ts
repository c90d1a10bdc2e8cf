/**
 * Differencing attacks on k-anonymity: released numbers at one bucket size
 * (or over several cameras) minus released numbers at another must never
 * isolate a bucket that was suppressed.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '@crowdlens/config';
import { BUCKET_MS, type AggregateStore, type BucketSize, type StatsQuery, type StatsRow } from '@crowdlens/storage';
import type { CameraRegistry } from './camera-registry.service';
import { StatsService } from './stats.service';

const K = 3;
const H0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;

type Row = StatsRow & { size: BucketSize };

function row(size: BucketSize, cameraId: string, bucketStart: number, male: number, female: number, unknown = 0): Row {
  const visitors = male + female + unknown;
  return { size, cameraId, bucketStart, faces: visitors * 2, visitors, male, female, unknown };
}

/** The store's rollups for minute rows: every hour and day is the sum of its minutes, as the SQL store keeps them. */
function withRollups(minutes: Row[]): Row[] {
  const out: Row[] = [...minutes];
  for (const size of ['hour', 'day'] as const) {
    const sums = new Map<string, Row>();
    for (const m of minutes) {
      const start = m.bucketStart - (m.bucketStart % BUCKET_MS[size]);
      const key = `${m.cameraId}@${start}`;
      const acc = sums.get(key) ?? row(size, m.cameraId, start, 0, 0);
      sums.set(key, {
        ...acc,
        faces: acc.faces + m.faces,
        visitors: acc.visitors + m.visitors,
        male: acc.male + m.male,
        female: acc.female + m.female,
        unknown: acc.unknown + m.unknown,
      });
    }
    out.push(...sums.values());
  }
  return out;
}

function serviceOver(rows: Row[]): StatsService {
  const store: Pick<AggregateStore, 'queryStats' | 'lateEvents' | 'dwellByBucket'> = {
    queryStats: async (q: StatsQuery) =>
      rows
        .filter((r) => r.size === q.bucket && (!q.cameraIds || q.cameraIds.includes(r.cameraId)))
        .filter((r) => r.bucketStart >= q.from - (q.from % BUCKET_MS[q.bucket]) && r.bucketStart < q.to)
        .map(({ size: _size, ...r }) => r),
    lateEvents: async () => 0,
    dwellByBucket: async () => [],
  };
  const cameras = [...new Set(rows.map((r) => r.cameraId))].map((cameraId) => ({ cameraId, group: 'g' }));
  const registry: Pick<CameraRegistry, 'list' | 'has'> = {
    list: () => cameras as ReturnType<CameraRegistry['list']>,
    has: (id: string) => cameras.some((c) => c.cameraId === id),
  };
  const config = parseConfig({ analytics: { kAnonymity: K } });
  return new StatsService(store as AggregateStore, config, registry as CameraRegistry);
}

const range = (bucket: BucketSize, cameraIds: string[] = [], from = H0, to = H0 + 2 * HOUR) => ({
  cameraIds,
  groups: [],
  from,
  to,
  bucket,
});

describe('k-anonymity against differencing', () => {
  it('an hour minus its shown minutes never reveals a suppressed minute (the reported attack)', async () => {
    // Minute 0: three women. Minute 7: one man alone — suppressed.
    const stats = serviceOver(withRollups([row('minute', 'a', H0, 0, 3), row('minute', 'a', H0 + 7 * MIN, 1, 0)]));
    const minutes = await stats.stats(range('minute'));
    const hours = await stats.stats(range('hour'));
    const shownMinutes = minutes.series.filter((r) => !r.suppressed);
    expect(minutes.series.find((r) => r.bucketStart === H0 + 7 * MIN)?.suppressed).toBe(true);
    const hour = hours.series.find((r) => r.bucketStart === H0)!;
    expect(hour.visitors! - shownMinutes.reduce((a, r) => a + r.visitors!, 0)).toBe(0);
    expect(hour.male! - shownMinutes.reduce((a, r) => a + r.male!, 0)).toBe(0);
    expect(hours.totals).toMatchObject({ visitors: 3, male: 0, female: 3 });
  });

  it('still counts people alone in their minutes when they are k or more together', async () => {
    const alone = [1, 2, 3, 4].map((m) => row('minute', 'a', H0 + m * MIN, 1, 0));
    const stats = serviceOver(withRollups([row('minute', 'a', H0, 0, 3), ...alone]));
    const hour = (await stats.stats(range('hour'))).series[0]!;
    // 7 = 3 shown + 4 people in suppressed minutes: the difference is k or more, never fewer.
    expect(hour).toMatchObject({ suppressed: false, visitors: 7, male: 4, female: 3 });
  });

  it('keeps the faces of minutes withheld only because nobody new arrived in them (they hide no one)', async () => {
    // Three people arrive in minute 0; their faces are classified again in minutes 1-3.
    const later = [1, 2, 3].map((m) => ({ ...row('minute', 'a', H0 + m * MIN, 0, 0), faces: 5 }));
    const stats = serviceOver(withRollups([row('minute', 'a', H0, 1, 2), ...later]));
    const minutes = await stats.stats(range('minute'));
    expect(minutes.series.filter((r) => r.suppressed)).toHaveLength(3);
    const hour = (await stats.stats(range('hour'))).series[0]!;
    expect(hour).toMatchObject({ suppressed: false, visitors: 3, faces: 6 + 15 });
  });

  it('a day minus its shown hours never reveals a suppressed hour', async () => {
    const stats = serviceOver(
      withRollups([
        row('minute', 'a', H0, 2, 2),
        // Hour 2: two people in two different minutes: each minute and the hour are under k.
        row('minute', 'a', H0 + HOUR + MIN, 1, 0),
        row('minute', 'a', H0 + HOUR + 2 * MIN, 0, 0, 1),
      ]),
    );
    const hours = await stats.stats(range('hour'));
    const day = (await stats.stats(range('day', [], H0, H0 + 1))).series[0]!;
    const shownHours = hours.series.filter((r) => !r.suppressed);
    expect(hours.series.find((r) => r.bucketStart === H0 + HOUR)?.suppressed).toBe(true);
    expect(day.visitors).toBe(shownHours.reduce((a, r) => a + r.visitors!, 0));
    expect(day.male).toBe(shownHours.reduce((a, r) => a + r.male!, 0));
    // Nor the day minus its shown minutes.
    const minutes = await stats.stats(range('minute'));
    const shownMinutes = minutes.series.filter((r) => !r.suppressed);
    expect(day.visitors! - shownMinutes.reduce((a, r) => a + r.visitors!, 0)).toBe(0);
  });

  it('peak hours over several cameras leave out every camera-hour the stats suppress', async () => {
    const stats = serviceOver(withRollups([row('minute', 'a', H0, 1, 1), row('minute', 'b', H0, 2, 3)]));
    const both = await stats.peakHours({ ...range('hour', ['a', 'b']), tz: 'UTC' });
    const onlyB = await stats.peakHours({ ...range('hour', ['b']), tz: 'UTC' });
    expect(both.hours[0]!.visitors - onlyB.hours[0]!.visitors).toBe(0);
  });
});
