import { describe, expect, it } from 'vitest';
import { voteTrack } from './track-vote';

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

  it('too little evidence is unknown, not a guess', () => {
    expect(voteTrack(1, 0.99, policy)).toBe('unknown');
    expect(voteTrack(4, 4 * 0.55, policy)).toBe('unknown');
    expect(voteTrack(0, 0, policy)).toBe('unknown');
  });
});
