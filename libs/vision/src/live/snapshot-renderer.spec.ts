import { describe, expect, it } from 'vitest';
import type { CameraGeometry } from '@crowdlens/config';
import type { LiveFrame } from './live-frames';
import { overlaySvg } from './snapshot-renderer';

const W = 640;
const H = 480;
const liveWith = (geometry: CameraGeometry): LiveFrame =>
  ({ frame: { width: W, height: H }, people: [], faces: [], geometry }) as unknown as LiveFrame;

/** Where the "in" label of the overlay is drawn, in pixels. */
function inLabel(svg: string): { x: number; y: number } {
  const m = /<text x="([\d.-]+)" y="([\d.-]+)"[^>]*>in<\/text>/.exec(svg);
  if (!m) throw new Error(`no "in" label in ${svg}`);
  return { x: Number(m[1]), y: Number(m[2]) };
}

describe('snapshot overlay', () => {
  it('marks the "in" side of a line on the side crossings count as in, however the line was drawn', () => {
    // Drawn top to bottom: in is right to left, so the label is left of the line (x = 0.3 of 640 = 192).
    const down = overlaySvg(
      liveWith({
        lines: [
          {
            name: 'door',
            points: [
              [0.3, 0],
              [0.3, 1],
            ],
          },
        ],
        zones: [],
      }),
      W,
      H,
    );
    expect(inLabel(down).x).toBeLessThan(192 - 10);
    // Drawn bottom to top: the other side.
    const up = overlaySvg(
      liveWith({
        lines: [
          {
            name: 'door',
            points: [
              [0.3, 1],
              [0.3, 0],
            ],
          },
        ],
        zones: [],
      }),
      W,
      H,
    );
    expect(inLabel(up).x).toBeGreaterThan(192 + 10);
    // Drawn left to right: in is walking down the picture, so the label is below the line (y = 240).
    const across = overlaySvg(
      liveWith({
        lines: [
          {
            name: 'door',
            points: [
              [0, 0.5],
              [1, 0.5],
            ],
          },
        ],
        zones: [],
      }),
      W,
      H,
    );
    expect(inLabel(across).y).toBeGreaterThan(240 + 10);
    // No arrow that points one fixed way whatever the line's direction.
    expect(down).not.toContain('→');
    expect(down).toContain('>door</text>');
  });
});
