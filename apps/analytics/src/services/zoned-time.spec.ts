import { describe, expect, it } from 'vitest';
import { ZonedTime } from './zoned-time';

const HOUR = 3_600_000;
const utc = (d: string): number => Date.parse(`${d}Z`);

describe('ZonedTime', () => {
  it('puts hours and days of a +05:30 zone on the half hour (Asia/Kolkata)', () => {
    const kolkata = new ZonedTime('Asia/Kolkata');
    const t = utc('2026-01-05T04:45:00'); // 10:15 IST
    expect(kolkata.offsetAt(t)).toBe(5.5 * HOUR);
    expect(kolkata.hourStart(t)).toBe(utc('2026-01-05T04:30:00'));
    expect(kolkata.hourOfDay(t)).toBe(10);
    expect(kolkata.dayStart(t)).toBe(utc('2026-01-04T18:30:00'));
    // 23:50 and 00:10 IST are two local days, though one UTC day.
    expect(kolkata.dayStart(utc('2026-01-05T18:20:00'))).toBe(utc('2026-01-04T18:30:00'));
    expect(kolkata.dayStart(utc('2026-01-05T18:40:00'))).toBe(utc('2026-01-05T18:30:00'));
  });

  it('puts a +05:45 zone on the quarter hour (Asia/Kathmandu)', () => {
    const kathmandu = new ZonedTime('Asia/Kathmandu');
    expect(kathmandu.hourStart(utc('2026-01-05T05:00:00'))).toBe(utc('2026-01-05T04:15:00'));
    expect(kathmandu.hourOfDay(utc('2026-01-05T05:00:00'))).toBe(10);
  });

  it('gives DST days their 23 and 25 hours (Europe/Paris)', () => {
    const paris = new ZonedTime('Europe/Paris');
    const spring = paris.dayStart(utc('2026-03-29T12:00:00'));
    expect(spring).toBe(utc('2026-03-28T23:00:00'));
    expect(paris.dayStart(utc('2026-03-30T12:00:00')) - spring).toBe(23 * HOUR);
    const autumn = paris.dayStart(utc('2026-10-25T12:00:00'));
    expect(autumn).toBe(utc('2026-10-24T22:00:00'));
    expect(paris.dayStart(utc('2026-10-26T12:00:00')) - autumn).toBe(25 * HOUR);
    // 02:00–03:00 happens twice on 25 October: two local hours, both hour 2 of the day.
    expect(paris.hourStart(utc('2026-10-25T00:30:00'))).toBe(utc('2026-10-25T00:00:00'));
    expect(paris.hourStart(utc('2026-10-25T01:30:00'))).toBe(utc('2026-10-25T01:00:00'));
    expect(paris.hourOfDay(utc('2026-10-25T00:30:00'))).toBe(2);
    expect(paris.hourOfDay(utc('2026-10-25T01:30:00'))).toBe(2);
  });

  it('starts a day whose midnight DST skipped at 01:00 (America/Santiago, 6 September 2026)', () => {
    const santiago = new ZonedTime('America/Santiago');
    expect(santiago.dayStart(utc('2026-09-06T15:00:00'))).toBe(utc('2026-09-06T04:00:00'));
    expect(santiago.hourOfDay(utc('2026-09-06T04:00:00'))).toBe(1);
    expect(santiago.dayStart(utc('2026-09-06T03:30:00'))).toBe(utc('2026-09-05T04:00:00'));
  });

  it('is UTC itself for UTC', () => {
    const z = new ZonedTime('UTC');
    const t = utc('2026-01-05T04:45:12');
    expect(z.bucketStart('minute', t)).toBe(utc('2026-01-05T04:45:00'));
    expect(z.bucketStart('hour', t)).toBe(utc('2026-01-05T04:00:00'));
    expect(z.bucketStart('day', t)).toBe(utc('2026-01-05T00:00:00'));
  });
});
