import { BUCKET_MS, type BucketSize, type StatsRow } from '@crowdlens/storage';

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

type Counts = { -readonly [K in 'faces' | 'visitors' | 'male' | 'female' | 'unknown']: number };
const COUNT_KEYS: ReadonlyArray<keyof Counts> = ['faces', 'visitors', 'male', 'female', 'unknown'];

/** A bucket as the store holds it and as it may be released. */
interface LevelRow {
  readonly stored: StatsRow;
  /** What may be shown of it (before k is applied to it). */
  readonly released: StatsRow;
}

/** Bucket sizes from the finest to the one asked for: minute, then hour, then day. */
export function levelsUpTo(bucket: BucketSize): BucketSize[] {
  const order: BucketSize[] = ['minute', 'hour', 'day'];
  return order.slice(0, order.indexOf(bucket) + 1);
}

const ZERO = (): Counts => ({ faces: 0, visitors: 0, male: 0, female: 0, unknown: 0 });

/**
 * Makes every bucket size consistent with the finer ones, so that no
 * difference of released numbers isolates fewer than k people: what a bucket
 * holds beyond its shown children (its suppressed children, and what they
 * left out in turn) is released with it only when that remainder is k people
 * or more; otherwise the bucket is released as the sum of its shown children.
 * An hour of 4 whose minutes show 3 is released as 3 (before: 4, and 4 − 3
 * gave away a suppressed minute's one visitor and that visitor's gender);
 * an hour of five people alone in five minutes is still released as 5. Any
 * released bucket minus any shown parts of it is then 0 or k people or more.
 *
 * Minutes expire (analytics.minuteRetentionDays) while hours and days stay:
 * a bucket whose children are gone is released as stored, so someone who
 * kept the minutes from before their expiry can still subtract. Closing that
 * needs the store to keep released rollups.
 *
 * @param levels rows per bucket size, finest first, each over the same cameras and whole buckets of the last one.
 * @param parentStart where a row of a finer level belongs in `size`: UTC buckets unless the caller's are local.
 * @returns the last (coarsest) level's rows with released counts; suppressSmallBuckets/totalsOf then apply k to them.
 */
export function releaseConsistently(
  levels: ReadonlyArray<{ size: BucketSize; rows: readonly StatsRow[] }>,
  k: number,
  parentStart: (cameraId: string, size: BucketSize, ts: number) => number = (_, size, ts) =>
    floorTo(ts, BUCKET_MS[size]),
): StatsRow[] {
  let below: LevelRow[] = [];
  let first = true;
  for (const { size, rows } of levels) {
    const shownChildren = new Map<string, Counts>();
    if (!first) {
      for (const child of below) {
        if (child.released.visitors < k) continue;
        const key = `${child.stored.cameraId}@${parentStart(child.stored.cameraId, size, child.stored.bucketStart)}`;
        const acc = shownChildren.get(key) ?? ZERO();
        for (const c of COUNT_KEYS) acc[c] += child.released[c];
        shownChildren.set(key, acc);
      }
    }
    below = rows.map((stored) => {
      const shown = first ? undefined : (shownChildren.get(`${stored.cameraId}@${stored.bucketStart}`) ?? ZERO());
      const hiddenPeople = shown ? stored.visitors - shown.visitors : 0;
      // No hidden person (children withheld only for having under k new visitors, e.g. minutes in
      // which known people were seen again): the parent reveals nobody, so it keeps its faces.
      if (!shown || hiddenPeople === 0 || hiddenPeople >= k) return { stored, released: stored };
      // Never above the stored counts: a child written after its parent was read (between the two queries).
      const capped = ZERO();
      for (const c of COUNT_KEYS) capped[c] = Math.min(stored[c], shown[c]);
      return { stored, released: { ...stored, ...capped } };
    });
    first = false;
  }
  return below.map((r) => r.released);
}

function floorTo(ts: number, ms: number): number {
  return ts - (((ts % ms) + ms) % ms);
}
