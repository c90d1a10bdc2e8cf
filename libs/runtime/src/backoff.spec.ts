import { describe, expect, it } from 'vitest';
import { ExponentialBackoff, backoffDelay } from './backoff';

describe('ExponentialBackoff', () => {
  it('doubles from the initial delay up to the cap when jitter is off', () => {
    const b = new ExponentialBackoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => b.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(b.attempt).toBe(6);
  });

  it('starts over after reset', () => {
    const b = new ExponentialBackoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    b.next();
    b.next();
    b.reset();
    expect(b.attempt).toBe(0);
    expect(b.next()).toBe(100);
  });

  it('spreads delays within +-jitter and never above the cap', () => {
    const lo = new ExponentialBackoff({ initialMs: 1000, maxMs: 5000, jitter: 0.2 }, () => 0);
    const hi = new ExponentialBackoff({ initialMs: 1000, maxMs: 5000, jitter: 0.2 }, () => 0.999999);
    expect(lo.next()).toBe(800);
    expect(hi.next()).toBe(1200);
    for (let i = 0; i < 10; i++) hi.next();
    expect(hi.next()).toBe(5000);
  });

  it('differs between cameras with real randomness', () => {
    const delays = new Set(
      Array.from({ length: 20 }, () => new ExponentialBackoff({ initialMs: 1000, jitter: 0.5 }).next()),
    );
    expect(delays.size).toBeGreaterThan(1);
  });

  it('survives very many attempts without overflow', () => {
    const b = new ExponentialBackoff({ initialMs: 1000, maxMs: 30_000, jitter: 0 });
    for (let i = 0; i < 5000; i++) b.next();
    expect(b.next()).toBe(30_000);
  });

  it('rejects invalid options', () => {
    expect(() => new ExponentialBackoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new ExponentialBackoff({ initialMs: 10, maxMs: 5 })).toThrow(RangeError);
    expect(() => new ExponentialBackoff({ jitter: 2 })).toThrow(RangeError);
  });

  it('gives the same delays as a stateless function of the attempt number', () => {
    const opts = { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, opts))).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000]);
    expect(backoffDelay(10_000, opts)).toBe(10_000);
  });
});
