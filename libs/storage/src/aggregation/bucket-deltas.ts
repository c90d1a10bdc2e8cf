import { BUCKET_MS, BUCKET_SIZES, type BucketSize, type VotedGender } from '../aggregate-store.port';
import type { Track } from './track';

/** The counters of one bucket row that aggregation adds to. */
export type BucketCounter = 'faces' | 'visitors' | VotedGender;

/** Counts to add to one camera's bucket row (created at zero if missing); a counter left out adds 0. */
export interface BucketDelta {
  readonly size: BucketSize;
  readonly bucketStart: number;
  readonly counts: Readonly<Partial<Record<BucketCounter, number>>>;
}

export const floorTo = (ts: number, size: number): number => Math.floor(ts / size) * size;

/** A classified crop is one more face in its frame's minute, hour and day. */
export function faceDeltas(frameTs: number): BucketDelta[] {
  return BUCKET_SIZES.map((size) => ({ size, bucketStart: floorTo(frameTs, BUCKET_MS[size]), counts: { faces: 1 } }));
}

/**
 * A new track is one more visitor in its first-sighting buckets; a known one whose first sighting
 * or vote changed moves out of the old (bucket, gender) into the new one. Buckets thereby count
 * each track once, in its current first sighting and vote, whatever order its records came in.
 */
export function visitorMoves(old: Track | undefined, next: Track): BucketDelta[] {
  const deltas: BucketDelta[] = [];
  for (const size of BUCKET_SIZES) {
    const ms = BUCKET_MS[size];
    const newBucket = floorTo(next.firstTs, ms);
    if (old) {
      const oldBucket = floorTo(old.firstTs, ms);
      if (oldBucket === newBucket && old.vote === next.vote) continue;
      deltas.push({ size, bucketStart: oldBucket, counts: { visitors: -1, [old.vote]: -1 } });
    }
    deltas.push({ size, bucketStart: newBucket, counts: { visitors: 1, [next.vote]: 1 } });
  }
  return deltas;
}
