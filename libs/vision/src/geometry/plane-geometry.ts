/** Small plane geometry in pixel coordinates, for counting lines and zones. */
export type Point = readonly [number, number];

/**
 * Signed distance of p from the infinite line through a and b: positive on the side that a→b
 * points to when turned 90° clockwise on the screen (y grows downwards), so a line drawn left
 * to right has its positive side below it.
 */
export function signedDistance(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len = Math.hypot(dx, dy);
  return (dx * (p[1] - a[1]) - dy * (p[0] - a[0])) / len;
}

/**
 * Where the step p0→p1, whose ends lie on opposite sides of the line through a and b (signed
 * distances d0 and d1), meets that line, as a fraction of a→b: 0 at a, 1 at b.
 */
export function crossingFraction(p0: Point, d0: number, p1: Point, d1: number, a: Point, b: Point): number {
  const s = d0 / (d0 - d1);
  const x = p0[0] + (p1[0] - p0[0]) * s;
  const y = p0[1] + (p1[1] - p0[1]) * s;
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  return ((x - a[0]) * dx + (y - a[1]) * dy) / (dx * dx + dy * dy);
}

/** Even-odd rule; the polygon's last corner joins its first. */
export function insidePolygon(p: Point, polygon: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i] as Point;
    const [xj, yj] = polygon[j] as Point;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Distance from p to the nearest edge of the polygon. */
export function distanceToEdges(p: Point, polygon: readonly Point[]): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++)
    best = Math.min(best, distanceToSegment(p, polygon[j] as Point, polygon[i] as Point));
  return best;
}

export function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}
