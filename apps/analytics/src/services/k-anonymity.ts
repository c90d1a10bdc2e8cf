import type { StatsRow } from '@crowdlens/storage';

export interface PublicStatsRow {
  readonly cameraId: string;
  readonly bucketStart: number;
  /** True when fewer than k people are in the bucket: every count is withheld. */
  readonly suppressed: boolean;
  readonly faces: number | null;
  readonly visitors: number | null;
  readonly male: number | null;
  readonly female: number | null;
  readonly unknown: number | null;
  /** Share of the visitors whose gender is decided, (male + female) / visitors; withheld like the counts. */
  readonly coverage: number | null;
}

/** What a suppressed bucket, store or total shows instead of its counts. */
export const WITHHELD_COUNTS = {
  faces: null,
  visitors: null,
  male: null,
  female: null,
  unknown: null,
  coverage: null,
} as const;

/**
 * The share of visitors with a decided gender: what the female/male shares are of. Shown beside
 * them so that 60 % female out of 10 % decided is not read as 60 % of everyone. Null with no visitors.
 */
export function coverageOf(counts: { visitors: number; male: number; female: number }): number | null {
  return counts.visitors > 0 ? (counts.male + counts.female) / counts.visitors : null;
}

/** Buckets describing fewer than k people are returned without their counts. */
export function suppressSmallBuckets(rows: readonly StatsRow[], k: number): PublicStatsRow[] {
  return rows.map((r) =>
    r.visitors >= k
      ? { ...r, suppressed: false, coverage: coverageOf(r) }
      : {
          cameraId: r.cameraId,
          bucketStart: r.bucketStart,
          suppressed: true,
          ...WITHHELD_COUNTS,
        },
  );
}
