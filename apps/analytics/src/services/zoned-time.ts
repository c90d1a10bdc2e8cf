/**
 * Local hour and day boundaries in an IANA time zone, as epoch ms. The store's rollups are UTC
 * hours and days; a store in Asia/Kolkata (+05:30) opens at 09:00 local = 03:30 UTC, so its hours
 * and days begin at instants no UTC bucket starts at, and a DST day has 23 or 25 hours.
 */
const HOUR = 3_600_000;
const DAY = 86_400_000;
// Every UTC offset in use is a whole number of quarter hours, and transitions happen on them.
const OFFSET_SLOT = 15 * 60_000;

const mod = (n: number, m: number): number => ((n % m) + m) % m;

export class ZonedTime {
  private readonly parts: Intl.DateTimeFormat;
  /** Offset (local − UTC, ms) per quarter hour: formatting is slow, rows are many. */
  private readonly offsets = new Map<number, number>();
  /** Local day number (days since 1970-01-01 local) → the instant that day starts. */
  private readonly dayStarts = new Map<number, number>();

  constructor(readonly timeZone: string) {
    this.parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
  }

  /** Local time minus UTC at `ts`, ms (+05:30 → 19 800 000). */
  offsetAt(ts: number): number {
    const slot = Math.floor(ts / OFFSET_SLOT);
    let offset = this.offsets.get(slot);
    if (offset === undefined) {
      const at = slot * OFFSET_SLOT;
      const p = Object.fromEntries(this.parts.formatToParts(at).map((x) => [x.type, x.value]));
      const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute));
      offset = wall - at;
      this.offsets.set(slot, offset);
    }
    return offset;
  }

  /** The start of the local hour holding `ts`. */
  hourStart(ts: number): number {
    return ts - mod(ts + this.offsetAt(ts), HOUR);
  }

  /** The local calendar day holding `ts`, as days since 1970-01-01. */
  dayNumber(ts: number): number {
    return Math.floor((ts + this.offsetAt(ts)) / DAY);
  }

  /**
   * The start of the local day holding `ts`: walked back hour by hour, so a day whose midnight was
   * skipped by DST (it starts at 01:00) or that has 23 or 25 hours still starts where it really does.
   */
  dayStart(ts: number): number {
    const day = this.dayNumber(ts);
    const known = this.dayStarts.get(day);
    if (known !== undefined) return known;
    let start = this.hourStart(ts);
    while (this.dayNumber(start - 1) === day) start = this.hourStart(start - 1);
    this.dayStarts.set(day, start);
    return start;
  }

  /** The start of the local bucket of this size holding `ts` (minutes are the same everywhere). */
  bucketStart(size: 'minute' | 'hour' | 'day', ts: number): number {
    if (size === 'minute') return ts - mod(ts, 60_000);
    return size === 'hour' ? this.hourStart(ts) : this.dayStart(ts);
  }

  /** The local hour of day, 0–23, at `ts`. */
  hourOfDay(ts: number): number {
    return Math.floor(mod(ts + this.offsetAt(ts), DAY) / HOUR);
  }
}

/** One ZonedTime per zone name, kept for the caches. */
export class ZonedTimes {
  private readonly zones = new Map<string, ZonedTime>();

  of(timeZone: string): ZonedTime {
    let zone = this.zones.get(timeZone);
    if (!zone) {
      zone = new ZonedTime(timeZone);
      this.zones.set(timeZone, zone);
    }
    return zone;
  }
}
