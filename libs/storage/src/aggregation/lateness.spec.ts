import { describe, expect, it } from 'vitest';
import { judgeLateness } from './lateness';

const ALLOWED = 10_000;

describe('judgeLateness', () => {
  it('the first event of a camera sets its watermark, however old', () => {
    expect(judgeLateness(undefined, 0, ALLOWED)).toBe('first');
  });

  it('a newer event advances the watermark', () => {
    expect(judgeLateness(100_000, 100_001, ALLOWED)).toBe('advance');
  });

  it('an event at or behind the watermark by up to the allowed lateness is applied and keeps it', () => {
    expect(judgeLateness(100_000, 100_000, ALLOWED)).toBe('within');
    expect(judgeLateness(100_000, 90_000, ALLOWED)).toBe('within');
  });

  it('an event further behind than the allowed lateness is late', () => {
    expect(judgeLateness(100_000, 89_999, ALLOWED)).toBe('late');
  });

  it('with no allowed lateness only an event older than the watermark is late', () => {
    expect(judgeLateness(100_000, 100_000, 0)).toBe('within');
    expect(judgeLateness(100_000, 99_999, 0)).toBe('late');
  });
});
