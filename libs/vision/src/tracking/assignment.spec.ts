import { describe, expect, it } from 'vitest';
import { solveAssignment } from './assignment';

const X = Number.POSITIVE_INFINITY;

describe('solveAssignment', () => {
  it('finds the optimum where greedy best-pair-first does not', () => {
    // Greedy takes (0,0)=0.1 first and leaves row 1 with 0.9; optimal is 0.2 + 0.3.
    const pairs = solveAssignment([
      [0.1, 0.2],
      [0.3, 0.9],
    ]);
    expect(pairs).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('maximises the number of allowed pairs before the cost', () => {
    // Row 0 could take column 0 cheaply, but then row 1 (only column 0 allowed) would be left out.
    expect(
      solveAssignment([
        [0.1, 0.5],
        [0.2, X],
      ]),
    ).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('handles rectangular matrices both ways and forbidden pairs', () => {
    expect(solveAssignment([[0.5, 0.1, 0.3]])).toEqual([[0, 1]]);
    expect(solveAssignment([[0.5], [0.1], [0.3]])).toEqual([[1, 0]]);
    expect(solveAssignment([[X, X]])).toEqual([]);
    expect(solveAssignment([[0.9, 0.2]], 0.5)).toEqual([[0, 1]]);
    expect(solveAssignment([])).toEqual([]);
    expect(solveAssignment([[]])).toEqual([]);
  });

  it('agrees with brute force on random matrices', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 200; trial++) {
      const rows = 1 + Math.floor(rand() * 4);
      const cols = 1 + Math.floor(rand() * 4);
      const cost = Array.from({ length: rows }, () => Array.from({ length: cols }, () => (rand() < 0.25 ? X : rand())));
      const got = solveAssignment(cost);
      const score = (pairs: Array<[number, number]>) => [
        pairs.length,
        -pairs.reduce((s, [r, c]) => s + (cost[r]![c] as number), 0),
      ];
      // Brute force over injective maps row -> column or none.
      let best = [0, 0];
      const walk = (r: number, used: Set<number>, pairs: Array<[number, number]>) => {
        if (r === rows) {
          const s = score(pairs);
          if (s[0]! > best[0]! || (s[0] === best[0] && s[1]! > best[1]! + 1e-9)) best = s;
          return;
        }
        walk(r + 1, used, pairs);
        for (let c = 0; c < cols; c++) {
          if (used.has(c) || !Number.isFinite(cost[r]![c])) continue;
          used.add(c);
          walk(r + 1, used, [...pairs, [r, c]]);
          used.delete(c);
        }
      };
      walk(0, new Set(), []);
      const s = score(got);
      expect(s[0]).toBe(best[0]);
      expect(s[1]).toBeCloseTo(best[1]!, 9);
    }
  });
});
