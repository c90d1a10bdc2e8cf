import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import {
  BUCKET_MS,
  LINE_ZONE_STORE,
  type BucketSize,
  type LineZoneStore,
  type StatsRow,
  type VotedGender,
  type ZoneVisitRow,
} from '@crowdlens/storage';
import { CLOCK } from '@crowdlens/common';
import type { Clock } from '@crowdlens/runtime';
import type { OccupancyQueryDto, StatsQueryDto } from '../dtos/stats-query.dto';
import { levelsUpTo, releaseConsistently } from './k-anonymity';
import { csvText, StatsService, type StatsRange } from './stats.service';

/** People counted in one bucket or total, by voted gender; withheld (null) under k. */
export interface PeopleCounts {
  readonly suppressed: boolean;
  readonly people: number | null;
  readonly male: number | null;
  readonly female: number | null;
  readonly unknown: number | null;
}

export interface LineSeriesRow extends PeopleCounts {
  readonly cameraId: string;
  readonly name: string;
  readonly direction: 'in' | 'out';
  readonly bucketStart: number;
}

export interface LineTotals {
  readonly cameraId: string;
  readonly name: string;
  readonly in: PeopleCounts;
  readonly out: PeopleCounts;
}

export interface LinesResult extends StatsRange {
  readonly lines: readonly LineTotals[];
  /** `people` = crossings in that direction in the bucket. */
  readonly series: readonly LineSeriesRow[];
}

export interface ZoneSeriesRow extends PeopleCounts {
  readonly cameraId: string;
  readonly name: string;
  readonly bucketStart: number;
  /** People inside at some moment of the bucket (entered before its end, not left before its start); null under k. */
  readonly occupancy: number | null;
}

export interface ZoneTotals {
  readonly cameraId: string;
  readonly name: string;
  /** Entries over the range, by voted gender. */
  readonly entries: PeopleCounts;
  /** Mean stay of the visits that entered in a shown bucket and have left, ms; null under k. */
  readonly meanDwellMs: number | null;
}

export interface ZonesResult extends StatsRange {
  readonly zones: readonly ZoneTotals[];
  /** `people` = entries in the bucket. */
  readonly series: readonly ZoneSeriesRow[];
}

export interface ZoneOccupancy {
  readonly cameraId: string;
  readonly name: string;
  readonly suppressed: boolean;
  /** People inside now; null when 1 to k − 1 (k-anonymity), 0 is shown. */
  readonly inside: number | null;
  readonly capacity: number | null;
  readonly overCapacity: boolean | null;
}

const WITHHELD: PeopleCounts = { suppressed: true, people: null, male: null, female: null, unknown: null };
const NOBODY: PeopleCounts = { suppressed: false, people: 0, male: 0, female: 0, unknown: 0 };

/** Keys several dimensions into StatsRow's cameraId, so releaseConsistently applies to lines and zones unchanged. */
const keyOf = (...parts: string[]): string => JSON.stringify(parts);
const partsOf = (key: string): string[] => JSON.parse(key) as string[];

const floorTo = (ts: number, ms: number): number => ts - (((ts % ms) + ms) % ms);

function addPerson(rows: Map<string, StatsRow>, key: string, bucketStart: number, vote: VotedGender, n = 1): void {
  const id = `${key}@${bucketStart}`;
  const row = rows.get(id) ?? { cameraId: key, bucketStart, faces: 0, visitors: 0, male: 0, female: 0, unknown: 0 };
  rows.set(id, { ...row, visitors: row.visitors + n, [vote]: row[vote] + n });
}

/**
 * Line crossings and zone entries, occupancy and dwell, with the privacy rules
 * of /api/stats: buckets under k people are withheld, coarser buckets are
 * released consistently with the finer ones (releaseConsistently), totals are
 * sums of shown buckets only.
 */
@Injectable()
export class LineZoneStatsService {
  private readonly k: number;

  constructor(
    @Inject(LINE_ZONE_STORE) private readonly store: LineZoneStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly stats: StatsService,
  ) {
    this.k = config.analytics.kAnonymity;
  }

  async lines(query: StatsQueryDto): Promise<LinesResult> {
    const cameraIds = this.stats.resolveCameras(query);
    const { from, to } = wholeBuckets(query.from, query.to, query.bucket);
    const levels = await Promise.all(
      levelsUpTo(query.bucket).map(async (size) => {
        const rows = new Map<string, StatsRow>();
        for (const r of await this.store.crossings({ cameraIds, from, to }, BUCKET_MS[size]))
          addPerson(rows, keyOf(r.cameraId, r.name, r.direction), r.bucketStart, r.vote, r.count);
        return { size, rows: [...rows.values()] };
      }),
    );
    const released = releaseConsistently(levels, this.k);
    const totals = new Map<string, { in: StatsRow[]; out: StatsRow[] }>();
    const series: LineSeriesRow[] = [];
    for (const r of released) {
      const [cameraId = '', name = '', direction = 'in'] = partsOf(r.cameraId);
      const dir = direction === 'out' ? 'out' : 'in';
      series.push({ cameraId, name, direction: dir, bucketStart: r.bucketStart, ...this.counts([r]) });
      const line = totals.get(keyOf(cameraId, name)) ?? { in: [], out: [] };
      line[dir].push(r);
      totals.set(keyOf(cameraId, name), line);
    }
    series.sort((a, b) => a.bucketStart - b.bucketStart || a.cameraId.localeCompare(b.cameraId));
    return {
      ...this.rangeOf(query),
      lines: [...totals]
        .map(([key, t]) => {
          const [cameraId = '', name = ''] = partsOf(key);
          return { cameraId, name, in: this.counts(t.in), out: this.counts(t.out) };
        })
        .sort((a, b) => a.cameraId.localeCompare(b.cameraId) || a.name.localeCompare(b.name)),
      series,
    };
  }

  async linesCsv(query: StatsQueryDto): Promise<string> {
    const { series } = await this.lines(query);
    const out = ['bucket_start,camera_id,line,direction,suppressed,crossings,female,male,unknown'];
    for (const r of series)
      out.push(
        [
          new Date(r.bucketStart).toISOString(),
          csvText(r.cameraId),
          csvText(r.name),
          r.direction,
          r.suppressed,
          cell(r.people),
          cell(r.female),
          cell(r.male),
          cell(r.unknown),
        ].join(','),
      );
    return out.join('\n') + '\n';
  }

  async zones(query: StatsQueryDto): Promise<ZonesResult> {
    const cameraIds = this.stats.resolveCameras(query);
    const { from, to } = wholeBuckets(query.from, query.to, query.bucket);
    const range = { cameraIds, from, to };
    const sizes = levelsUpTo(query.bucket);
    // Visits past retention survive only as hourly (and, for occupancy, daily) rollups.
    const [visits, ...rollups] = await Promise.all([
      this.store.zoneVisits(range),
      ...sizes.map((size) => this.store.zoneRollups(range, BUCKET_MS[size])),
    ]);
    const entered = visits.filter((v) => v.enteredTs >= from);
    const levels = sizes.map((size, i) => {
      const rows = new Map<string, StatsRow>();
      for (const v of entered)
        addPerson(rows, keyOf(v.cameraId, v.name), floorTo(v.enteredTs, BUCKET_MS[size]), v.vote);
      for (const r of rollups[i]!.entries) addPerson(rows, keyOf(r.cameraId, r.name), r.bucketStart, r.vote, r.entries);
      return { size, rows: [...rows.values()] };
    });
    const released = new Map(releaseConsistently(levels, this.k).map((r) => [`${r.cameraId}@${r.bucketStart}`, r]));
    const rolledUp = rollups.at(-1)!;

    // Occupancy per bucket: every visit overlapping it; a visit with no exit lasts while its track lives.
    const ms = BUCKET_MS[query.bucket];
    const now = this.clock.now();
    const aliveSince = this.aliveSince(now);
    const inside = new Map<string, number>();
    for (const v of visits) {
      const last = Math.min(stayEnd(v, now, aliveSince), to - 1);
      for (let b = floorTo(Math.max(v.enteredTs, from), ms); b <= last; b += ms) {
        const id = `${keyOf(v.cameraId, v.name)}@${b}`;
        inside.set(id, (inside.get(id) ?? 0) + 1);
      }
    }
    for (const r of rolledUp.occupancy) {
      const id = `${keyOf(r.cameraId, r.name)}@${r.bucketStart}`;
      inside.set(id, (inside.get(id) ?? 0) + r.inside);
    }
    const series: ZoneSeriesRow[] = [];
    for (const id of new Set([...released.keys(), ...inside.keys()])) {
      const at = id.lastIndexOf('@');
      const [cameraId = '', name = ''] = partsOf(id.slice(0, at));
      const bucketStart = Number(id.slice(at + 1));
      const row = released.get(id);
      const occupancy = inside.get(id) ?? 0;
      series.push({
        cameraId,
        name,
        bucketStart,
        // No row: nobody entered in the bucket (people inside came earlier), and 0 reveals nobody.
        ...(row ? this.counts([row]) : NOBODY),
        occupancy: occupancy >= this.k ? occupancy : null,
      });
    }
    series.sort((a, b) => a.bucketStart - b.bucketStart || a.cameraId.localeCompare(b.cameraId));

    const zones = new Map<string, { rows: StatsRow[]; dwellMs: number; stays: number }>();
    const zoneOf = (key: string) => {
      const z = zones.get(key) ?? { rows: [], dwellMs: 0, stays: 0 };
      zones.set(key, z);
      return z;
    };
    for (const r of released.values()) zoneOf(r.cameraId).rows.push(r);
    const addDwell = (key: string, bucketStart: number, dwellMs: number, stays: number): void => {
      const row = released.get(`${key}@${bucketStart}`);
      if (stays === 0 || !row || row.visitors < this.k) return;
      const z = zoneOf(key);
      z.dwellMs += dwellMs;
      z.stays += stays;
    };
    for (const v of entered)
      if (v.exitedTs !== null)
        addDwell(keyOf(v.cameraId, v.name), floorTo(v.enteredTs, ms), v.exitedTs - v.enteredTs, 1);
    for (const r of rolledUp.entries) addDwell(keyOf(r.cameraId, r.name), r.bucketStart, r.dwellMs, r.stays);
    return {
      ...this.rangeOf(query),
      zones: [...zones]
        .map(([key, z]) => {
          const [cameraId = '', name = ''] = partsOf(key);
          const entries = this.counts(z.rows);
          return {
            cameraId,
            name,
            entries,
            meanDwellMs: entries.suppressed || z.stays < this.k ? null : Math.round(z.dwellMs / z.stays),
          };
        })
        .sort((a, b) => a.cameraId.localeCompare(b.cameraId) || a.name.localeCompare(b.name)),
      series,
    };
  }

  async zonesCsv(query: StatsQueryDto): Promise<string> {
    const { series } = await this.zones(query);
    const out = ['bucket_start,camera_id,zone,suppressed,entries,female,male,unknown,occupancy'];
    for (const r of series)
      out.push(
        [
          new Date(r.bucketStart).toISOString(),
          csvText(r.cameraId),
          csvText(r.name),
          r.suppressed,
          cell(r.people),
          cell(r.female),
          cell(r.male),
          cell(r.unknown),
          cell(r.occupancy),
        ].join(','),
      );
    return out.join('\n') + '\n';
  }

  /**
   * People in each zone now. A visit counts while its track lives: not ended, and seen (or entered)
   * within two heartbeats plus the tracker's max age, so a stay whose exit was lost with a crashed
   * ingest drops out within about a minute.
   */
  async occupancy(query: OccupancyQueryDto): Promise<{ at: number; kAnonymity: number; zones: ZoneOccupancy[] }> {
    const cameraIds = this.stats.resolveCameras({ ...query, from: 0, to: 0 });
    const now = this.clock.now();
    const aliveSince = this.aliveSince(now);
    const wanted = (id: string) => !cameraIds || cameraIds.includes(id);
    const capacity = new Map<string, number | null>();
    for (const cam of this.config.cameras)
      if (wanted(cam.id)) for (const z of cam.zones) capacity.set(keyOf(cam.id, z.name), z.capacity ?? null);
    for (const z of await this.store.zoneNames(now - BUCKET_MS.day))
      if (wanted(z.cameraId) && !capacity.has(keyOf(z.cameraId, z.name))) capacity.set(keyOf(z.cameraId, z.name), null);
    const counts = new Map(
      (await this.store.occupancy(cameraIds, aliveSince)).map((r) => [keyOf(r.cameraId, r.name), r.inside]),
    );
    const zones = [...capacity]
      .map(([key, cap]): ZoneOccupancy => {
        const [cameraId = '', name = ''] = partsOf(key);
        const n = counts.get(key) ?? 0;
        const shown = n === 0 || n >= this.k;
        return {
          cameraId,
          name,
          suppressed: !shown,
          inside: shown ? n : null,
          capacity: cap,
          // Over capacity is never withheld: a capacity is at least 1 person, and an operator must see it.
          overCapacity: cap === null ? null : n > cap,
        };
      })
      .sort((a, b) => a.cameraId.localeCompare(b.cameraId) || a.name.localeCompare(b.name));
    return { at: now, kAnonymity: this.k, zones };
  }

  /** A track seen since then (two heartbeats plus the tracker's max age) is still in view. */
  private aliveSince(now: number): number {
    const { counting } = this.config;
    return now - (2 * counting.heartbeatMs + counting.personTracker.maxAgeMs);
  }

  /** The rows' sum over those shown (k or more people each), withheld when that is under k: as totalsOf. */
  private counts(rows: readonly StatsRow[]): PeopleCounts {
    const shown = rows.filter((r) => r.visitors >= this.k);
    const sum = (pick: (r: StatsRow) => number) => shown.reduce((acc, r) => acc + pick(r), 0);
    const people = sum((r) => r.visitors);
    if (people < this.k || shown.length === 0) return WITHHELD;
    return {
      suppressed: false,
      people,
      male: sum((r) => r.male),
      female: sum((r) => r.female),
      unknown: sum((r) => r.unknown),
    };
  }

  private rangeOf(query: StatsQueryDto): StatsRange {
    return {
      from: query.from,
      to: query.to,
      bucket: query.bucket,
      bucketMs: BUCKET_MS[query.bucket],
      kAnonymity: this.k,
    };
  }
}

/**
 * When a stay ends for occupancy: at its exit; with none, now while the person's track lives (as
 * occupancy now counts them), else at their last sighting. A lost exit (a crashed ingest) would
 * otherwise keep someone inside every bucket up to now.
 */
function stayEnd(v: ZoneVisitRow, now: number, aliveSince: number): number {
  if (v.exitedTs !== null) return v.exitedTs;
  const lastSeenTs = v.track?.lastSeenTs ?? Number.NEGATIVE_INFINITY;
  if (!v.track?.ended && (v.enteredTs >= aliveSince || lastSeenTs >= aliveSince)) return now;
  return Math.max(v.enteredTs, lastSeenTs);
}

function wholeBuckets(from: number, to: number, bucket: BucketSize): { from: number; to: number } {
  const ms = BUCKET_MS[bucket];
  return { from: floorTo(from, ms), to: Math.ceil(to / ms) * ms };
}

function cell(v: number | null): string {
  return v === null ? '' : String(v);
}
