import type { AppConfig } from '@crowdlens/config';
import type { SqlAggregateStoreOptions, VotedGender } from '@crowdlens/storage';

export interface VotePolicy {
  /** Crops a track needs before it is given a gender. */
  readonly minEvidence: number;
  /** |mean P(male) − 0.5| below this is "unknown", not a guess. */
  readonly minMargin: number;
}

/**
 * One person's gender from all of their crops: the mean P(male), with a
 * minimum-evidence rule — too few crops, or a mean too close to 0.5, is
 * "unknown" rather than a guess. The store re-applies it each time a track
 * gains evidence, moving the person between gender counts.
 */
export function voteTrack(crops: number, sumProbMale: number, policy: VotePolicy): VotedGender {
  if (crops < policy.minEvidence || crops <= 0) return 'unknown';
  const mean = sumProbMale / crops;
  // The store sums in arrival order, and float sums differ in the last bit by order (0.05, 0.25, 0.9
  // averages 0.39999999999999997 or 0.4000000000000001): a mean at the margin, to far below any
  // meaningful probability, is at the margin, so one person's vote never depends on that order.
  if (mean >= 0.5 + policy.minMargin - MARGIN_TOLERANCE) return 'male';
  if (mean <= 0.5 - policy.minMargin + MARGIN_TOLERANCE) return 'female';
  return 'unknown';
}

const MARGIN_TOLERANCE = 1e-9;

/** How analytics configures the store: this vote rule and the lateness bound. */
export function storeOptions(config: AppConfig): SqlAggregateStoreOptions {
  const policy: VotePolicy = {
    minEvidence: config.analytics.minTrackEvidence,
    minMargin: config.analytics.minVoteMargin,
  };
  return {
    voter: (crops, sum) => voteTrack(crops, sum, policy),
    allowedLatenessMs: config.analytics.allowedLatenessMs,
  };
}
