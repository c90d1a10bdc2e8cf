import { describe, expect, it } from 'vitest';
import type { StatsRow } from '@crowdlens/storage';
import { localLevels } from './local-buckets';
import { ZonedTime } from './zoned-time';

const MIN = 60_000;
const HOUR = 3_600_000;
const utc = (d: string): number => Date.parse(`${d}Z`);

/** One visitor per row, a man: what a store holds for people first seen at these instants. */
function rows(cameraId: string, starts: number[], size: number): StatsRow[] {
  const sums = new Map<number, number>();
  for (const s of starts) sums.set(s - (s % size), (sums.get(s - (s % size)) ?? 0) + 1);
  return [...sums].map(([bucketStart, n]) => ({
    cameraId,
    bucketStart,
    faces: n,
    visitors: n,
    male: n,
    female: 0,
    unknown: 0,
  }));
}

describe('localLevels', () => {
  const kolkata = new ZonedTime('Asia/Kolkata');
  const paris = new ZonedTime('Europe/Paris');

  it('regroups the minutes of a +05:30 camera into its local hours and days', () => {
    // 10:05, 10:20, 10:50 IST (two UTC hours) and 23:50, 00:10 IST (two local days, one UTC day).
    const seen = ['04:35', '04:50', '05:20', '18:20', '18:40'].map((t) => utc(`2026-01-05T${t}:00`));
    const stored = { minute: rows('blr', seen, MIN), hour: rows('blr', seen, HOUR) };
    const [, hours, days] = localLevels(stored, 'day', () => kolkata);
    expect(hours!.rows.map((r) => [new Date(r.bucketStart).toISOString(), r.visitors])).toEqual([
      ['2026-01-05T04:30:00.000Z', 3],
      ['2026-01-05T17:30:00.000Z', 1],
      ['2026-01-05T18:30:00.000Z', 1],
    ]);
    expect(days!.rows.map((r) => [new Date(r.bucketStart).toISOString(), r.visitors])).toEqual([
      ['2026-01-04T18:30:00.000Z', 4],
      ['2026-01-05T18:30:00.000Z', 1],
    ]);
  });

  it('takes whole UTC hours where they are local hours, and counts a DST day once per person', () => {
    // 23:30 on 28 March, 00:30 and 23:30 on 29 March (the 23-hour day), Paris time; no minutes
    // at all (expired): hours alone are enough in a whole-hour zone.
    const seen = [utc('2026-03-28T22:30:00'), utc('2026-03-28T23:30:00'), utc('2026-03-29T21:30:00')];
    const [, hours, days] = localLevels({ minute: [], hour: rows('par', seen, HOUR) }, 'day', () => paris);
    expect(hours!.rows).toHaveLength(3);
    expect(days!.rows.map((r) => [new Date(r.bucketStart).toISOString(), r.visitors])).toEqual([
      ['2026-03-27T23:00:00.000Z', 1],
      ['2026-03-28T23:00:00.000Z', 2],
    ]);
  });

  it('keeps every person once a +05:30 hour has lost its minutes (counted in the local hour its UTC hour starts in)', () => {
    const seen = ['04:35', '04:50', '05:20'].map((t) => utc(`2026-01-05T${t}:00`));
    const [, hours] = localLevels({ minute: [], hour: rows('blr', seen, HOUR) }, 'hour', () => kolkata);
    expect(hours!.rows.reduce((n, r) => n + r.visitors, 0)).toBe(3);
    expect(hours!.rows.map((r) => new Date(r.bucketStart).toISOString())).toEqual([
      '2026-01-05T03:30:00.000Z',
      '2026-01-05T04:30:00.000Z',
    ]);
  });
});
