import { describe, expect, it } from 'vitest';
import { parseConfig } from '@crowdlens/config';
import { TrackAggregator, type BucketDelta, type PredictionRecord } from '@crowdlens/storage';
import { storeOptions, voteTrack } from './track-vote';

const policy = { minEvidence: 2, minMargin: 0.1 };

describe('voteTrack', () => {
  it('votes by mean probability', () => {
    expect(voteTrack(3, 0.9 + 0.8 + 0.7, policy)).toBe('male');
    expect(voteTrack(3, 0.1 + 0.2 + 0.3, policy)).toBe('female');
  });

  it('a majority of weak votes does not beat one confident vote the other way', () => {
    // two at 0.55 (male-ish) and one at 0.02: mean 0.373 -> female
    expect(voteTrack(3, 0.55 + 0.55 + 0.02, policy)).toBe('female');
  });

  it('gives a mean exactly at the margin the same vote whatever order its crops were summed in', () => {
    const orders = [
      [0.05, 0.25, 0.9],
      [0.05, 0.9, 0.25],
      [0.9, 0.25, 0.05],
      [0.25, 0.9, 0.05],
    ];
    const sums = orders.map((o) => o.reduce((s, p) => s + p, 0));
    expect(new Set(sums.map((s) => s / 3)).size).toBeGreaterThan(1); // the floats do differ by order
    expect(orders.map((_, i) => voteTrack(3, sums[i]!, policy))).toEqual(['female', 'female', 'female', 'female']);
    // Mirrored, for male: 0.95, 0.75, 0.1.
    const male = orders.map((o) => o.map((p) => 1 - p).reduce((s, p) => s + p, 0));
    expect(male.map((s) => voteTrack(3, s, policy))).toEqual(['male', 'male', 'male', 'male']);
    // Just inside the margin stays unknown.
    expect(voteTrack(3, 3 * 0.401, policy)).toBe('unknown');
  });

  it('too little evidence is unknown, not a guess', () => {
    expect(voteTrack(1, 0.99, policy)).toBe('unknown');
    expect(voteTrack(4, 4 * 0.55, policy)).toBe('unknown');
    expect(voteTrack(0, 0, policy)).toBe('unknown');
  });
});

describe('storeOptions voter in the aggregation rules', () => {
  it('moves a visitor from unknown to a gender once the configured evidence is reached, and back on doubt', () => {
    const { voter } = storeOptions(parseConfig({ analytics: { minTrackEvidence: 3, minVoteMargin: 0.2 } }));
    const aggregator = new TrackAggregator(voter);
    const crop = (i: number, probMale: number): PredictionRecord => ({
      predictionId: `p${i}`,
      cameraId: 'cam',
      trackId: 't',
      frameTs: 1_000 * i,
      probMale,
    });
    const genders = (deltas: readonly BucketDelta[]): string[] =>
      deltas.filter((d) => d.size === 'minute' && d.counts.visitors !== undefined).map((d) => JSON.stringify(d.counts));
    let step = aggregator.prediction(undefined, crop(0, 0.95));
    expect(genders(step.deltas)).toEqual(['{"visitors":1,"unknown":1}']);
    step = aggregator.prediction(step.track, crop(1, 0.95));
    expect(step.track.vote).toBe('unknown'); // two crops: below minTrackEvidence
    step = aggregator.prediction(step.track, crop(2, 0.95));
    expect(genders(step.deltas)).toEqual(['{"visitors":-1,"unknown":-1}', '{"visitors":1,"male":1}']);
    step = aggregator.prediction(step.track, crop(3, 0.1)); // mean 0.74: still at least 0.2 above even
    expect(step.track.vote).toBe('male');
    step = aggregator.prediction(step.track, crop(4, 0.1)); // mean 0.61: inside the margin
    expect(genders(step.deltas)).toEqual(['{"visitors":-1,"male":-1}', '{"visitors":1,"unknown":1}']);
  });
});
