import type { VotedGender } from './aggregate-store.port';

/** A line crossing, zone entry or zone exit as analytics stores it: a track id, a name, times. No image, no box. */
export type LineZoneRecord =
  | {
      readonly kind: 'line-crossed';
      readonly eventId: string;
      readonly cameraId: string;
      readonly trackId: string;
      readonly name: string;
      readonly ts: number;
      readonly direction: 'in' | 'out';
    }
  | {
      readonly kind: 'zone-entered';
      readonly cameraId: string;
      readonly trackId: string;
      readonly name: string;
      readonly ts: number;
    }
  | {
      readonly kind: 'zone-exited';
      readonly cameraId: string;
      readonly trackId: string;
      readonly name: string;
      readonly enteredTs: number;
      readonly ts: number;
    };

export interface LineZoneRange {
  /** Absent = every camera; an empty list = none. */
  readonly cameraIds?: readonly string[];
  readonly from: number;
  readonly to: number;
}

/** Crossings of one line in one direction, bucket and voted gender of the person who crossed. */
export interface CrossingCountRow {
  readonly cameraId: string;
  readonly name: string;
  readonly direction: 'in' | 'out';
  readonly bucketStart: number;
  readonly vote: VotedGender;
  readonly count: number;
}

/** One stay of one person in one zone; exitedTs null while they are (or were last known to be) inside. */
export interface ZoneVisitRow {
  readonly cameraId: string;
  readonly name: string;
  readonly enteredTs: number;
  readonly exitedTs: number | null;
  readonly vote: VotedGender;
  /**
   * Last sighting of the person's track, and whether that track has ended; null when its record is
   * gone. What bounds a stay whose exit never came (an ingest that crashed, a track that timed out).
   */
  readonly track: { readonly lastSeenTs: number; readonly ended: boolean } | null;
}

/** Entries into one zone in one bucket, by voted gender, from the hourly rollups retention keeps. */
export interface ZoneEntryRollupRow {
  readonly cameraId: string;
  readonly name: string;
  readonly bucketStart: number;
  readonly vote: VotedGender;
  readonly entries: number;
  /** Summed stay of those of the entries that left, and how many they are. */
  readonly dwellMs: number;
  readonly stays: number;
}

/** People inside one zone at some moment of one bucket, from the rollups retention keeps. */
export interface ZoneOccupancyRollupRow {
  readonly cameraId: string;
  readonly name: string;
  readonly bucketStart: number;
  readonly inside: number;
}

export interface ZoneRollups {
  readonly entries: readonly ZoneEntryRollupRow[];
  readonly occupancy: readonly ZoneOccupancyRollupRow[];
}

export interface OccupancyRow {
  readonly cameraId: string;
  readonly name: string;
  readonly inside: number;
}

/**
 * Line crossings and zone visits, each kept once under a natural key (the
 * crossing's event id; camera, zone, track and entry time for a visit), so a
 * replay or redelivery changes nothing. Counts are bucketed when read, and
 * each person's gender is their track's vote at that moment (the same vote
 * their visitor count carries), so a vote decided after the crossing still
 * applies to it.
 */
export interface LineZoneStore {
  migrate(): Promise<void>;
  apply(records: readonly LineZoneRecord[]): Promise<{ applied: number; duplicates: number }>;
  /** Raw crossings, plus for hour and day buckets those retention has folded into hourly rollups. */
  crossings(range: LineZoneRange, bucketMs: number): Promise<CrossingCountRow[]>;
  /** Visits still kept raw that overlap [from, to): entered before `to` and not exited before `from`. */
  zoneVisits(range: LineZoneRange): Promise<ZoneVisitRow[]>;
  /**
   * The zone figures of visits retention has folded away, in buckets of `bucketMs` (an hour or a
   * day; nothing for minutes, which are not kept past retention): entries by the bucket they entered
   * in, occupancy by the buckets they overlapped. A visit is either raw or rolled up, never both.
   */
  zoneRollups(range: LineZoneRange, bucketMs: number): Promise<ZoneRollups>;
  /**
   * People inside each zone now: visits not exited whose track has not ended and was seen (or entered
   * the zone) at or after `aliveSince`; a visit whose exit was lost with a crashed ingest drops out.
   */
  occupancy(cameraIds: readonly string[] | undefined, aliveSince: number): Promise<OccupancyRow[]>;
  /** Zone names with a visit since `since`, per camera: the zones analytics knows without the config. */
  zoneNames(since: number): Promise<Array<{ cameraId: string; name: string }>>;
  /**
   * Folds crossings before `before`, and visits that ended (or, with no exit, entered) before it,
   * into the hourly rollups with their people's votes, then deletes them: in one transaction, so each
   * is counted raw or rolled up, never both or neither. Run it before the per-track records go.
   */
  applyRetention(before: number): Promise<{ crossings: number; visits: number }>;
}

export const LINE_ZONE_STORE = Symbol('LineZoneStore');
