/**
 * Minimum-cost assignment (Hungarian method, the O(n^2 m) potentials
 * formulation). A tracker's matrices are tiny (people in one camera's view),
 * so optimal assignment costs microseconds and, unlike greedy best-pair-first,
 * never gives away a track's only plausible detection to a neighbour that had
 * another one.
 *
 * `cost[r][c]` is the cost of pairing row r with column c; pairs whose cost is
 * not finite (or above `maxCost`) are forbidden. Returns the chosen pairs; a
 * row or column may stay unassigned. Among assignments it maximises the number
 * of allowed pairs first, then minimises their total cost.
 */
export function solveAssignment(
  cost: readonly (readonly number[])[],
  maxCost = Number.POSITIVE_INFINITY,
): Array<[row: number, col: number]> {
  const rows = cost.length;
  const cols = rows === 0 ? 0 : (cost[0] as readonly number[]).length;
  if (rows === 0 || cols === 0) return [];
  const allowed = (r: number, c: number): boolean => {
    const v = (cost[r] as readonly number[])[c] as number;
    return Number.isFinite(v) && v <= maxCost;
  };
  // A forbidden pair costs more than every allowed pair together, so the
  // optimum uses as few of them as possible; they are removed afterwards.
  let maxAllowed = 0;
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      if (allowed(r, c)) maxAllowed = Math.max(maxAllowed, Math.abs((cost[r] as number[])[c] as number));
  const forbidden = (maxAllowed + 1) * (Math.min(rows, cols) + 1);
  const transpose = rows > cols;
  const n = transpose ? cols : rows;
  const m = transpose ? rows : cols;
  const a = (i: number, j: number): number => {
    const r = transpose ? j : i;
    const c = transpose ? i : j;
    return allowed(r, c) ? ((cost[r] as number[])[c] as number) : forbidden;
  };

  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j]: row (1-based) assigned to column j
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Number.POSITIVE_INFINITY);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0] as number;
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = a(i0 - 1, j - 1) - (u[i0] as number) - (v[j] as number);
        if (cur < (minv[j] as number)) {
          minv[j] = cur;
          way[j] = j0;
        }
        if ((minv[j] as number) < delta) {
          delta = minv[j] as number;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j] as number] = (u[p[j] as number] as number) + delta;
          v[j] = (v[j] as number) - delta;
        } else {
          minv[j] = (minv[j] as number) - delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0] as number;
      p[j0] = p[j1] as number;
      j0 = j1;
    } while (j0 !== 0);
  }

  const pairs: Array<[number, number]> = [];
  for (let j = 1; j <= m; j++) {
    const i = p[j] as number;
    if (i === 0) continue;
    const r = transpose ? j - 1 : i - 1;
    const c = transpose ? i - 1 : j - 1;
    if (allowed(r, c)) pairs.push([r, c]);
  }
  return pairs.sort((x, y) => x[0] - y[0]);
}
