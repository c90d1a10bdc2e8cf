/** One classified crop as analytics stores it: anonymous, no image, no embedding. */
export interface PredictionRecord {
  readonly predictionId: string;
  readonly cameraId: string;
  readonly trackId: string;
  readonly frameTs: number;
  readonly probMale: number;
}

/** What a track follows: a person's body or a face. */
export type TrackUnit = 'person' | 'face';

/**
 * One track event as analytics stores it: the lifetime of one track (times and
 * counts, no image, no box). Every field is cumulative, so applying events in
 * any order, or twice, gives the same track.
 */
export interface TrackEventRecord {
  readonly eventId: string;
  readonly cameraId: string;
  readonly trackId: string;
  readonly unit: TrackUnit;
  readonly firstSeenTs: number;
  readonly lastSeenTs: number;
  readonly frames: number;
  readonly largestFacePx: number;
  /** The track's final event: lastSeenTs will not move again. */
  readonly ended: boolean;
  /** Why it ended (left, timeout, …); null on started and heartbeat events. */
  readonly endReason: string | null;
}

export type BucketSize = 'minute' | 'hour' | 'day';
export const BUCKET_SIZES: readonly BucketSize[] = ['minute', 'hour', 'day'];

export const BUCKET_MS: Readonly<Record<BucketSize, number>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

export type VotedGender = 'male' | 'female' | 'unknown';

/** The per-track gender rule, owned by analytics; the store applies it when a track's evidence changes. */
export type TrackVoter = (crops: number, sumProbMale: number) => VotedGender;

export interface StatsQuery {
  /** Absent = every camera; an empty list = none. */
  readonly cameraIds?: readonly string[];
  readonly from: number;
  readonly to: number;
  readonly bucket: BucketSize;
}

export interface StatsRow {
  readonly cameraId: string;
  readonly bucketStart: number;
  /** Classified face crops seen in the bucket. */
  readonly faces: number;
  /**
   * Tracks (people) whose first sighting falls in the bucket, by voted gender; a track
   * with no classified face is a visitor of unknown gender.
   */
  readonly visitors: number;
  readonly male: number;
  readonly female: number;
  readonly unknown: number;
}

export interface DwellQuery {
  readonly cameraIds?: readonly string[];
  readonly from: number;
  readonly to: number;
  /** Upper edges of the histogram bins, ms, ascending; a last open bin is added. */
  readonly edgesMs: readonly number[];
}

/** The people first seen in one camera's bucket and how long they stayed, summed: no per-person times. */
export interface DwellBucketRow {
  readonly cameraId: string;
  readonly bucketStart: number;
  readonly tracks: number;
  /** Sum over those tracks of last sighting − first sighting (the track's lifetime so far), ms. */
  readonly dwellMsSum: number;
}

export interface ApplyResult {
  readonly applied: number;
  readonly duplicates: number;
  /** Older than the allowed lateness behind the camera's newest event: counted, not aggregated. */
  readonly late: number;
}

export interface RetentionResult {
  readonly minuteBuckets: number;
  readonly tracks: number;
  readonly predictionIds: number;
  readonly trackEventIds: number;
}

/**
 * Aggregates only: minute/hour/day buckets per camera and anonymous per-track
 * lifetimes and vote sums. A track is a visitor from whichever of its track
 * events or predictions arrives first; applying the same prediction or event
 * twice is a no-op (its id is remembered in the same transaction), so a replay
 * never double counts.
 */
export interface AggregateStore {
  migrate(): Promise<void>;
  applyPredictions(records: readonly PredictionRecord[]): Promise<ApplyResult>;
  /** Track lifetimes: first seen = min, last seen = max, frames and largest face = max. */
  applyTrackEvents(events: readonly TrackEventRecord[]): Promise<ApplyResult>;
  queryStats(query: StatsQuery): Promise<StatsRow[]>;
  /**
   * Track counts per dwell-time bin, tracks first seen in [from, to). Dwell is the track's lifetime
   * (last − first sighting, from its track events; its predictions lie inside it), so far for tracks still open.
   */
  dwellHistogram(query: DwellQuery): Promise<number[]>;
  /**
   * Dwell per camera and first-sighting bucket, over the same buckets queryStats returns for the
   * same query, so a caller can leave out the people of the buckets it suppresses.
   */
  dwellByBucket(query: StatsQuery): Promise<DwellBucketRow[]>;
  lateEvents(cameraIds?: readonly string[]): Promise<number>;
  /** Drops minute buckets, tracks last seen and ids remembered before `before`; hour and day rollups stay. */
  applyRetention(before: number): Promise<RetentionResult>;
  close(): Promise<void>;
}

export const AGGREGATE_STORE = Symbol('AggregateStore');
