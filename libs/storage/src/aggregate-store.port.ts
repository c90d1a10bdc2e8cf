/** One classified crop as analytics stores it: anonymous, no image, no embedding. */
export interface PredictionRecord {
  readonly predictionId: string;
  readonly cameraId: string;
  readonly trackId: string;
  readonly frameTs: number;
  readonly probMale: number;
}

export type BucketSize = 'minute' | 'hour' | 'day';

export const BUCKET_MS: Readonly<Record<BucketSize, number>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

export interface VotePolicy {
  /** Crops a track needs before it is given a gender. */
  readonly minEvidence: number;
  /** |mean P(male) − 0.5| below this is "unknown", not a guess. */
  readonly minMargin: number;
}

export interface StatsQuery {
  readonly cameraIds?: readonly string[];
  readonly from: number;
  readonly to: number;
  readonly bucket: BucketSize;
  readonly vote: VotePolicy;
}

export interface StatsRow {
  readonly cameraId: string;
  readonly bucketStart: number;
  /** Classified face crops seen in the bucket. */
  readonly faces: number;
  /** Tracks (people) whose first sighting falls in the bucket, by voted gender. */
  readonly visitors: number;
  readonly male: number;
  readonly female: number;
  readonly unknown: number;
}

export interface ApplyResult {
  readonly applied: number;
  readonly duplicates: number;
}

/**
 * Aggregates only: per-minute face counts and anonymous per-track vote sums.
 * Applying the same prediction twice is a no-op (its id is remembered), so a
 * replay or redelivery never double counts.
 */
export interface AggregateStore {
  migrate(): Promise<void>;
  applyPredictions(records: readonly PredictionRecord[]): Promise<ApplyResult>;
  queryStats(query: StatsQuery): Promise<StatsRow[]>;
  close(): Promise<void>;
}

export const AGGREGATE_STORE = Symbol('AggregateStore');
