import type { TrackVoter } from '@crowdlens/storage';

/**
 * The analytics vote in its simplest form, for store tests: a gender once a
 * track has `minCrops` crops and its mean P(male) is at least `margin` from
 * 50/50; "unknown" otherwise.
 */
export function meanVoter(minCrops: number, margin = 0.1): TrackVoter {
  return (crops, sum) => {
    const mean = sum / crops;
    if (crops < minCrops || Math.abs(mean - 0.5) < margin) return 'unknown';
    return mean > 0.5 ? 'male' : 'female';
  };
}
