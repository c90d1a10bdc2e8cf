import { describe, expect, it } from 'vitest';
import { boundedMemo } from './bounded-memo';

describe('boundedMemo', () => {
  it('creates a value once per key and hands the same one back', () => {
    const cache = new Map<string, { n: number }>();
    let made = 0;
    const make = () => ({ n: ++made });
    const a = boundedMemo(cache, 'a', 4, make);
    expect(boundedMemo(cache, 'a', 4, make)).toBe(a);
    expect(made).toBe(1);
  });

  it('past max entries drops the oldest, keeping the rest', () => {
    const cache = new Map<string, string>();
    for (const k of ['a', 'b', 'c']) boundedMemo(cache, k, 3, () => k.toUpperCase());
    boundedMemo(cache, 'd', 3, () => 'D');
    expect([...cache.keys()]).toEqual(['b', 'c', 'd']);
  });
});
