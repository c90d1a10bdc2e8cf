import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import { AGGREGATE_STORE, BUCKET_MS, type AggregateStore, type StatsQuery, type StatsRow } from '@crowdlens/storage';
import type {
  DwellQueryDto,
  GroupsQueryDto,
  PeakHoursQueryDto,
  RangeQuery,
  StatsQueryDto,
} from '../dtos/stats-query.dto';
import { CameraRegistry } from './camera-registry.service';
import { localLevels } from './local-buckets';
import { ZonedTimes, type ZonedTime } from './zoned-time';
import {
  coverageOf,
  releaseConsistently,
  suppressSmallBuckets,
  WITHHELD_COUNTS,
  type PublicStatsRow,
} from './k-anonymity';

export interface StatsTotals {
  readonly suppressed: boolean;
  readonly faces: number | null;
  readonly visitors: number | null;
  readonly male: number | null;
  readonly female: number | null;
  readonly unknown: number | null;
  /**
   * Share of the visitors whose gender is decided, (male + female) / visitors: what maleShare and
   * femaleShare are shares of. Null when suppressed.
   */
  readonly coverage: number | null;
  /** Shares of the people with a voted gender; null when there are none or the totals are suppressed. */
  readonly maleShare: number | null;
  readonly femaleShare: number | null;
}

/** What every stats answer says about the range it covers and the suppression it applied. */
export interface StatsRange {
  readonly from: number;
  readonly to: number;
  readonly bucket: StatsQueryDto['bucket'];
  readonly bucketMs: number;
  readonly kAnonymity: number;
}

export interface StatsResult extends StatsRange {
  readonly cameras: readonly string[];
  readonly totals: StatsTotals;
  readonly lateEvents: number;
  readonly series: readonly PublicStatsRow[];
}

export interface PeakHour {
  readonly hour: number;
  readonly visitors: number;
  readonly avgVisitorsPerDay: number;
}

export interface DwellBin {
  readonly label: string;
  readonly minMs: number;
  readonly maxMs: number | null;
  readonly tracks: number | null;
}

/** The row for cameras without a group (and for data from cameras no longer configured). */
export const NO_GROUP_LABEL = '(no group)';

/** One store in the comparison: its totals are exactly /api/stats?group=… totals for the same range and bucket. */
export interface GroupComparisonRow extends StatsTotals {
  /** The camera group; null for the cameras without one. */
  readonly group: string | null;
  /** What to show: the group, or NO_GROUP_LABEL. */
  readonly label: string;
  readonly cameras: readonly string[];
  /** Female / male / unknown as shares of all visitors (they add up to 1); null when suppressed. */
  readonly visitorShares: { readonly female: number; readonly male: number; readonly unknown: number } | null;
  /**
   * Mean dwell (the track's lifetime: last − first sighting) of the visitors counted here, ms; null
   * when the row is suppressed or fewer than k of them still have a track on record.
   */
  readonly meanDwellMs: number | null;
}

export interface GroupComparison extends StatsRange {
  /** By label, the cameras without a group last. */
  readonly groups: readonly GroupComparisonRow[];
}

export const DWELL_EDGES_MS = [10_000, 30_000, 60_000, 120_000, 300_000, 600_000];

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** How far before `from` / after `to` a local bucket holding them may reach (±14 h offsets, 25 h days). */
const LOCAL_MARGIN_MS = { minute: 0, hour: 2 * HOUR, day: 2 * DAY } as const;

type ZoneOf = (cameraId: string) => ZonedTime;

/**
 * Totals over the buckets that are shown: a suppressed bucket is left out of
 * the totals too, or totals minus the visible rows would reveal it.
 */
export function totalsOf(all: readonly StatsRow[], k: number): StatsTotals {
  const rows = all.filter((r) => r.visitors >= k);
  const sum = (pick: (r: StatsRow) => number) => rows.reduce((acc, r) => acc + pick(r), 0);
  const visitors = sum((r) => r.visitors);
  if (visitors < k) {
    return { suppressed: true, ...WITHHELD_COUNTS, maleShare: null, femaleShare: null };
  }
  const male = sum((r) => r.male);
  const female = sum((r) => r.female);
  const decided = male + female;
  return {
    suppressed: false,
    faces: sum((r) => r.faces),
    visitors,
    male,
    female,
    unknown: sum((r) => r.unknown),
    coverage: coverageOf({ visitors, male, female }),
    maleShare: decided > 0 ? male / decided : null,
    femaleShare: decided > 0 ? female / decided : null,
  };
}

/** Aggregate queries with the privacy rules applied; the controllers only map HTTP to these. */
@Injectable()
export class StatsService {
  private readonly k: number;
  private readonly zones = new ZonedTimes();
  private readonly defaultZone: string;
  private readonly groupZones: ReadonlyMap<string, string>;

  constructor(
    @Inject(AGGREGATE_STORE) private readonly store: AggregateStore,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly cameras: CameraRegistry,
  ) {
    this.k = config.analytics.kAnonymity;
    this.defaultZone = config.analytics.timeZone;
    this.groupZones = new Map(
      Object.entries(config.groups).flatMap(([group, g]) => (g.timeZone ? [[group, g.timeZone] as const] : [])),
    );
  }

  /** A camera's hours and days are its store's: its group's time zone, else the configured default. */
  private readonly cameraZone: ZoneOf = (cameraId) => {
    const group = this.cameras.list().find((c) => c.cameraId === cameraId)?.group;
    return this.zones.of((group && this.groupZones.get(group)) || this.defaultZone);
  };

  private rangeOf(query: Pick<StatsQueryDto, 'from' | 'to' | 'bucket'>): StatsRange {
    return {
      from: query.from,
      to: query.to,
      bucket: query.bucket,
      bucketMs: BUCKET_MS[query.bucket],
      kAnonymity: this.k,
    };
  }

  /**
   * The buckets holding [from, to), hours and days local to each camera's zone (localLevels), with
   * the people of suppressed finer buckets taken out (see releaseConsistently): what every answer
   * below is computed from.
   */
  private async releasedRows(q: StatsQuery, zoneOf: ZoneOf = this.cameraZone): Promise<StatsRow[]> {
    // Whole local buckets of the size asked for, so each one's children are all read.
    const margin = LOCAL_MARGIN_MS[q.bucket];
    const from = Math.floor((q.from - margin) / HOUR) * HOUR;
    const to = Math.ceil((q.to + margin) / HOUR) * HOUR;
    const [minute, hour] = await Promise.all([
      this.store.queryStats({ ...q, from, to, bucket: 'minute' }),
      q.bucket === 'minute' ? [] : this.store.queryStats({ ...q, from, to, bucket: 'hour' }),
    ]);
    const levels = localLevels({ minute, hour }, q.bucket, zoneOf);
    const released = releaseConsistently(levels, this.k, (cameraId, size, ts) =>
      zoneOf(cameraId).bucketStart(size, ts),
    );
    return released.filter(
      (r) => r.bucketStart >= zoneOf(r.cameraId).bucketStart(q.bucket, q.from) && r.bucketStart < q.to,
    );
  }

  async stats(query: StatsQueryDto): Promise<StatsResult> {
    const cameraIds = this.resolveCameras(query);
    const rows = await this.releasedRows({ cameraIds, from: query.from, to: query.to, bucket: query.bucket });
    return {
      ...this.rangeOf(query),
      cameras: cameraIds ?? this.cameras.list().map((c) => c.cameraId),
      totals: totalsOf(rows, this.k),
      lateEvents: await this.store.lateEvents(cameraIds),
      series: suppressSmallBuckets(rows, this.k),
    };
  }

  async csv(query: StatsQueryDto): Promise<string> {
    const result = await this.stats(query);
    const groupOf = new Map(this.cameras.list().map((c) => [c.cameraId, c.group ?? '']));
    const cell = (v: number | null) => (v === null ? '' : String(v));
    const lines = ['bucket_start,camera_id,group,suppressed,faces,visitors,female,male,unknown,coverage'];
    for (const r of result.series) {
      lines.push(
        [
          new Date(r.bucketStart).toISOString(),
          csvText(r.cameraId),
          csvText(groupOf.get(r.cameraId) ?? ''),
          r.suppressed,
          cell(r.faces),
          cell(r.visitors),
          cell(r.female),
          cell(r.male),
          cell(r.unknown),
          share(r.coverage),
        ].join(','),
      );
    }
    return lines.join('\n') + '\n';
  }

  /**
   * Every store side by side. Suppression is the same as /api/stats with the same bucket: buckets
   * under k are left out of a store's totals (and their people out of its mean dwell), and a store
   * whose remaining visitors are under k is suppressed as a whole.
   */
  async groups(query: GroupsQueryDto): Promise<GroupComparison> {
    const cameraIds = this.resolveCameras({ ...query, cameraIds: [] });
    const range = { cameraIds, from: query.from, to: query.to, bucket: query.bucket };
    // Dwell by first-sighting minute, regrouped into the local buckets the rows are in.
    const margin = LOCAL_MARGIN_MS[query.bucket];
    const [rows, dwell] = await Promise.all([
      this.releasedRows(range),
      this.store.dwellByBucket({ cameraIds, from: query.from - margin, to: query.to + margin, bucket: 'minute' }),
    ]);
    const known = this.cameras.list().filter((c) => !cameraIds || cameraIds.includes(c.cameraId));
    const groupOf = new Map(known.map((c) => [c.cameraId, c.group ?? null]));
    const stores = new Map<
      string | null,
      { cameras: Set<string>; rows: StatsRow[]; tracks: number; dwellMs: number }
    >();
    const storeOf = (cameraId: string) => {
      const group = groupOf.get(cameraId) ?? null;
      const store = stores.get(group) ?? { cameras: new Set<string>(), rows: [], tracks: 0, dwellMs: 0 };
      stores.set(group, store);
      store.cameras.add(cameraId);
      return store;
    };
    // Every store gets a row, a quiet one too; data from a camera no longer known has no group.
    known.forEach((c) => storeOf(c.cameraId));
    rows.forEach((r) => storeOf(r.cameraId).rows.push(r));
    // Mean dwell is over the people the totals count: those first seen in a bucket that is shown.
    const bucketKey = (r: { cameraId: string; bucketStart: number }) => `${r.cameraId}@${r.bucketStart}`;
    const shown = new Set(rows.filter((r) => r.visitors >= this.k).map(bucketKey));
    for (const d of dwell) {
      const local = {
        cameraId: d.cameraId,
        bucketStart: this.cameraZone(d.cameraId).bucketStart(query.bucket, d.bucketStart),
      };
      if (!shown.has(bucketKey(local))) continue;
      const store = storeOf(d.cameraId);
      store.tracks += d.tracks;
      store.dwellMs += d.dwellMsSum;
    }

    const groups = [...stores].map(([group, store]): GroupComparisonRow => {
      const totals = totalsOf(store.rows, this.k);
      const visitors = totals.visitors ?? 0;
      return {
        group,
        label: group ?? NO_GROUP_LABEL,
        cameras: [...store.cameras].sort(),
        ...totals,
        visitorShares:
          totals.suppressed || visitors === 0
            ? null
            : {
                female: (totals.female ?? 0) / visitors,
                male: (totals.male ?? 0) / visitors,
                unknown: (totals.unknown ?? 0) / visitors,
              },
        meanDwellMs: totals.suppressed || store.tracks < this.k ? null : Math.round(store.dwellMs / store.tracks),
      };
    });
    groups.sort((a, b) => (a.group === null ? 1 : b.group === null ? -1 : a.label.localeCompare(b.label)));
    return {
      ...this.rangeOf(query),
      groups,
    };
  }

  async groupsCsv(query: GroupsQueryDto): Promise<string> {
    const { groups } = await this.groups(query);
    const cell = (v: number | null) => (v === null ? '' : String(v));
    const lines = ['group,cameras,suppressed,faces,visitors,female,male,unknown,coverage,mean_dwell_s'];
    for (const g of groups) {
      lines.push(
        [
          csvText(g.label),
          g.cameras.length,
          g.suppressed,
          cell(g.faces),
          cell(g.visitors),
          cell(g.female),
          cell(g.male),
          cell(g.unknown),
          share(g.coverage),
          g.meanDwellMs === null ? '' : (g.meanDwellMs / 1000).toFixed(1),
        ].join(','),
      );
    }
    return lines.join('\n') + '\n';
  }

  /**
   * Visitors by local hour of day: in `tz` when the caller names one, else each camera in its own
   * store's zone (a 10:00 opening is hour 10 in Paris and in Kolkata). Hours are local hours built
   * from the store's minutes and hours, so a +05:30 zone's 10:00–11:00 is exactly that.
   */
  async peakHours(query: PeakHoursQueryDto): Promise<{ tz: string; hours: PeakHour[]; suppressed: boolean }> {
    const cameraIds = this.resolveCameras(query);
    const asked = query.tz === undefined ? undefined : this.zones.of(query.tz);
    const zoneOf: ZoneOf = asked ? () => asked : this.cameraZone;
    // Released hours only: summing suppressed hours across cameras or days let a difference reveal them.
    const rows = (
      await this.releasedRows({ cameraIds, from: query.from, to: query.to, bucket: 'hour' }, zoneOf)
    ).filter((r) => r.visitors >= this.k);
    const visitors = new Array<number>(24).fill(0);
    const days = Array.from({ length: 24 }, () => new Set<string>());
    for (const r of rows) {
      const zone = zoneOf(r.cameraId);
      const h = zone.hourOfDay(r.bucketStart);
      visitors[h]! += r.visitors;
      days[h]!.add(`${zone.timeZone}:${zone.dayNumber(r.bucketStart)}`);
    }
    const total = visitors.reduce((a, b) => a + b, 0);
    const hours = visitors
      .map((v, hour) => ({ hour, visitors: v, avgVisitorsPerDay: days[hour]!.size ? v / days[hour]!.size : 0 }))
      .filter((h) => h.visitors >= this.k)
      .sort((a, b) => b.visitors - a.visitors);
    const cameraZones = [
      ...new Set((cameraIds ?? this.cameras.list().map((c) => c.cameraId)).map((id) => this.cameraZone(id).timeZone)),
    ];
    // Several stores in several zones: each counted in its own, and the answer names them all.
    const tz = query.tz ?? (cameraZones.length ? cameraZones.sort().join(',') : this.defaultZone);
    return { tz, hours, suppressed: total < this.k };
  }

  async dwell(query: DwellQueryDto): Promise<{ bins: DwellBin[]; suppressed: boolean }> {
    const cameraIds = this.resolveCameras(query);
    const counts = await this.store.dwellHistogram({
      cameraIds,
      from: query.from,
      to: query.to,
      edgesMs: DWELL_EDGES_MS,
    });
    const suppressed = counts.reduce((a, b) => a + b, 0) < this.k;
    const edges = [0, ...DWELL_EDGES_MS];
    const fmt = (ms: number) => (ms < 60_000 ? `${ms / 1000}s` : `${ms / 60_000}m`);
    const bins = counts.map((n, i) => ({
      label: i < DWELL_EDGES_MS.length ? `${fmt(edges[i]!)}–${fmt(edges[i + 1]!)}` : `≥${fmt(edges[i]!)}`,
      minMs: edges[i]!,
      maxMs: i < DWELL_EDGES_MS.length ? edges[i + 1]! : null,
      tracks: suppressed || n < this.k ? null : n,
    }));
    return { bins, suppressed };
  }

  /** camera + group parameters -> the camera ids to query (undefined = all); unknown ids are a 400, not an empty answer. */
  resolveCameras(query: RangeQuery): string[] | undefined {
    const unknown = query.cameraIds.filter((id) => !this.cameras.has(id));
    const known = new Set(
      this.cameras
        .list()
        .map((c) => c.group)
        .filter(Boolean),
    );
    const unknownGroups = query.groups.filter((g) => !known.has(g));
    const reasons = [
      ...(unknown.length ? [`camera: unknown camera id(s) ${unknown.join(', ')}`] : []),
      ...(unknownGroups.length ? [`group: unknown group(s) ${unknownGroups.join(', ')}`] : []),
    ];
    if (reasons.length) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: reasons });
    if (query.groups.length === 0) return query.cameraIds.length ? [...query.cameraIds] : undefined;
    const inGroups = this.cameras
      .list()
      .filter((c) => c.group !== undefined && query.groups.includes(c.group))
      .map((c) => c.cameraId);
    return query.cameraIds.length ? query.cameraIds.filter((id) => inGroups.includes(id)) : inGroups;
  }
}

/** A 0–1 share as a CSV cell: four decimals are enough for a percentage with two; empty when withheld. */
function share(value: number | null): string {
  return value === null ? '' : String(Number(value.toFixed(4)));
}

/**
 * CSV-safe text: quotes, and a leading quote for cells a spreadsheet would run as a formula
 * (also after a tab or carriage return, which spreadsheets skip before reading one).
 */
export function csvText(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
