import type { VotePolicy } from '@crowdlens/storage';

export type VotedGender = 'male' | 'female' | 'unknown';

/**
 * One person's gender from all of their crops: the mean P(male), with a
 * minimum-evidence rule — too few crops, or a mean too close to 0.5, is
 * "unknown" rather than a guess. The store's SQL applies the same rule
 * (SqlAggregateStore.queryStats); a test keeps the two in step.
 */
export function voteTrack(crops: number, sumProbMale: number, policy: VotePolicy): VotedGender {
  if (crops < policy.minEvidence || crops <= 0) return 'unknown';
  const mean = sumProbMale / crops;
  if (mean >= 0.5 + policy.minMargin) return 'male';
  if (mean <= 0.5 - policy.minMargin) return 'female';
  return 'unknown';
}
