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
}

/** What a suppressed bucket, store or total shows instead of its counts. */
export const WITHHELD_COUNTS = { faces: null, visitors: null, male: null, female: null, unknown: null } as const;

/** Buckets describing fewer than k people are returned without their counts. */
export function suppressSmallBuckets(rows: readonly StatsRow[], k: number): PublicStatsRow[] {
  return rows.map((r) =>
    r.visitors >= k
      ? { ...r, suppressed: false }
      : {
          cameraId: r.cameraId,
          bucketStart: r.bucketStart,
          suppressed: true,
          ...WITHHELD_COUNTS,
        },
  );
}
