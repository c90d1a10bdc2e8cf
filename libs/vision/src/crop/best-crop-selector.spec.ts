import { describe, expect, it } from 'vitest';
import { BestCropSelector } from './best-crop-selector';

describe('BestCropSelector', () => {
  it('sends the first crop, then only clearly better ones, at most N', () => {
    const s = new BestCropSelector(3, 0.05);
    expect(s.offer('t', 0.5)).toBe(true);
    expect(s.offer('t', 0.52)).toBe(false); // not clearly better
    expect(s.offer('t', 0.4)).toBe(false);
    expect(s.offer('t', 0.6)).toBe(true);
    expect(s.wants('t')).toBe(true);
    expect(s.offer('t', 0.9)).toBe(true);
    expect(s.wants('t')).toBe(false);
    expect(s.offer('t', 1)).toBe(false);
  });

  it('says the least quality it would accept: exactly where offer() turns from no to yes', () => {
    const s = new BestCropSelector(2, 0.05);
    expect(s.minAccepted('t')).toBe(0);
    s.offer('t', 0.5);
    const floor = s.minAccepted('t');
    expect(floor).toBeCloseTo(0.55, 10);
    expect(s.offer('t', floor - 1e-9)).toBe(false);
    expect(s.offer('t', floor)).toBe(true);
    expect(s.minAccepted('t')).toBe(Number.POSITIVE_INFINITY); // budget spent
  });

  it('keeps tracks apart and forgets ended ones', () => {
    const s = new BestCropSelector(1);
    expect(s.offer('a', 0.1)).toBe(true);
    expect(s.offer('b', 0.1)).toBe(true);
    expect(s.wants('a')).toBe(false);
    s.end('a');
    expect(s.trackedCount).toBe(1);
    expect(s.wants('a')).toBe(true);
  });

  it('rejects a zero budget', () => {
    expect(() => new BestCropSelector(0)).toThrow(RangeError);
  });
});
