import { describe, expect, it } from 'vitest';
import { CameraGeometrySchema } from './geometry.schema';
import { parseConfig } from './load-config';

const issues = (input: unknown) => {
  const r = CameraGeometrySchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('lines and zones in the config', () => {
  it('accepts normalised lines and zones', () => {
    expect(
      issues({
        lines: [
          {
            name: 'door',
            points: [
              [0.5, 0],
              [0.5, 1],
            ],
          },
        ],
        zones: [
          {
            name: 'till',
            points: [
              [0, 0],
              [1, 0],
              [1, 1],
            ],
            capacity: 5,
          },
        ],
      }),
    ).toEqual([]);
  });

  it('refuses a zone under 3 points, a line of one point twice, coordinates outside 0–1, duplicate names', () => {
    expect(
      issues({
        zones: [
          {
            name: 'z',
            points: [
              [0, 0],
              [1, 1],
            ],
          },
        ],
      }),
    ).toEqual(['zones.0.points: a zone needs at least 3 points']);
    expect(
      issues({
        lines: [
          {
            name: 'l',
            points: [
              [0.2, 0.2],
              [0.2, 0.2],
            ],
          },
        ],
      }),
    ).toEqual(['lines.0.points: a line needs 2 distinct points']);
    expect(
      issues({
        lines: [
          {
            name: 'l',
            points: [
              [0, 0],
              [1.5, 1],
            ],
          },
        ],
      })[0],
    ).toMatch(/^lines\.0\.points\.1\.0: Too big/);
    expect(
      issues({
        lines: [
          {
            name: 'door',
            points: [
              [0, 0],
              [1, 1],
            ],
          },
        ],
        zones: [
          {
            name: 'door',
            points: [
              [0, 0],
              [1, 0],
              [1, 1],
            ],
          },
        ],
      }),
    ).toEqual(['zones.0.name: duplicate name "door": line and zone names are unique per camera']);
  });

  it('validates them inside a camera of the config file, naming the camera', () => {
    expect(() =>
      parseConfig({
        cameras: [
          {
            id: 'cam',
            url: 'rtsp://h/s',
            lines: [
              {
                name: 'a',
                points: [
                  [0, 0],
                  [1, 1],
                ],
              },
              {
                name: 'a',
                points: [
                  [0, 1],
                  [1, 0],
                ],
              },
            ],
          },
        ],
      }),
    ).toThrow(/cameras\[0\]\.lines\[1\]\.name: duplicate name "a"/);
  });
});
