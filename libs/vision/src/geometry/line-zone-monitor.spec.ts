import { describe, expect, it } from 'vitest';
import { CameraGeometrySchema, type CameraGeometry } from '@crowdlens/config';
import type { LineZoneEvent } from '@crowdlens/contracts';
import { LineZoneMonitor } from './line-zone-monitor';

const FRAME = { width: 100, height: 100 };
/** A 10 px wide, 30 px tall person whose feet stand at (x, y). */
const at = (trackId: string, x: number, y: number) => ({
  trackId,
  box: { x: x - 5, y: y - 30, width: 10, height: 30 },
});
const always = () => true;

function monitor(geometry: CameraGeometry | (() => CameraGeometry)) {
  return new LineZoneMonitor({
    cameraId: 'cam',
    geometry: typeof geometry === 'function' ? geometry : () => geometry,
    now: () => 0,
  });
}

/** Walks one person through foot points, one frame each (100 ms apart); returns every event. */
function walk(m: LineZoneMonitor, trackId: string, points: ReadonlyArray<[number, number]>, isVisitor = always) {
  const events: LineZoneEvent[] = [];
  points.forEach(([x, y], i) => events.push(...m.observe([at(trackId, x, y)], 1000 + i * 100, FRAME, isVisitor)));
  return events;
}

const vertical = CameraGeometrySchema.parse({
  lines: [
    {
      name: 'door',
      points: [
        [0.5, 0],
        [0.5, 1],
      ],
    },
  ],
});
const crossings = (events: LineZoneEvent[]) =>
  events.filter((e) => e.kind === 'line-crossed').map((e) => (e.kind === 'line-crossed' ? e.direction : null));

describe('LineZoneMonitor: lines', () => {
  it('counts one crossing per pass, with its direction (A→B turned clockwise is in)', () => {
    const m = monitor(vertical);
    // A→B points down; turned 90° clockwise on the screen it points left: right-to-left is "in".
    expect(
      crossings(
        walk(m, 't1', [
          [20, 50],
          [35, 50],
          [48, 50],
          [62, 50],
          [80, 50],
        ]),
      ),
    ).toEqual(['out']);
    expect(
      crossings(
        walk(m, 't2', [
          [80, 60],
          [65, 60],
          [40, 60],
          [20, 60],
        ]),
      ),
    ).toEqual(['in']);
  });

  it('counts nothing for a person standing on the line or jittering across it', () => {
    const m = monitor(vertical);
    const jitter: Array<[number, number]> = [[30, 50]];
    for (let i = 0; i < 20; i++) jitter.push([i % 2 ? 49 : 51.5, 50]);
    jitter.push([30, 50]); // and back to where they came from
    expect(crossings(walk(m, 't1', jitter))).toEqual([]);
  });

  it('counts a there-and-back as one in and one out, each once', () => {
    const m = monitor(vertical);
    expect(
      crossings(
        walk(m, 't1', [
          [20, 50],
          [80, 50],
          [80, 52],
          [20, 50],
        ]),
      ),
    ).toEqual(['out', 'in']);
  });

  it('ignores a step that passes beyond the end of the line', () => {
    const m = monitor(
      CameraGeometrySchema.parse({
        lines: [
          {
            name: 'short',
            points: [
              [0.5, 0],
              [0.5, 0.4],
            ],
          },
        ],
      }),
    );
    expect(
      crossings(
        walk(m, 't1', [
          [20, 80],
          [80, 80],
        ]),
      ),
    ).toEqual([]);
    expect(
      crossings(
        walk(m, 't2', [
          [20, 30],
          [80, 30],
        ]),
      ),
    ).toEqual(['out']);
  });

  it('uses the foot point: a box that only grows upwards across the line changes nothing', () => {
    const m = monitor(
      CameraGeometrySchema.parse({
        lines: [
          {
            name: 'floor',
            points: [
              [0, 0.5],
              [1, 0.5],
            ],
          },
        ],
      }),
    );
    // Feet stay at y = 70 (below the line) while the box's top and centre move above it.
    const grow = [10, 30, 60].map((h) => ({ trackId: 't1', box: { x: 45, y: 70 - h, width: 10, height: h } }));
    const events = grow.flatMap((p, i) => m.observe([p], i * 100, FRAME, always));
    expect(events).toEqual([]);
  });

  it("holds a track's events until it is a visitor, and drops them if it never becomes one", () => {
    const m = monitor(vertical);
    let visitor = false;
    const early = walk(
      m,
      't1',
      [
        [20, 50],
        [80, 50],
      ],
      () => visitor,
    );
    expect(early).toEqual([]);
    visitor = true;
    const released = m.observe([at('t1', 82, 50)], 2000, FRAME, () => visitor);
    expect(crossings(released)).toEqual(['out']);
    expect(released[0]?.ts).toBe(1100); // the frame it happened in, not the frame it was released in

    const flicker = walk(
      m,
      'ghost',
      [
        [20, 50],
        [80, 50],
      ],
      () => false,
    );
    expect([...flicker, ...m.ended(['ghost'])]).toEqual([]);
  });

  it('starts afresh on a redrawn line and gives every crossing a unique id', () => {
    let g = vertical;
    const m = monitor(() => g);
    const first = walk(m, 't1', [
      [20, 50],
      [80, 50],
    ]);
    g = CameraGeometrySchema.parse({
      lines: [
        {
          name: 'door',
          points: [
            [0.9, 0],
            [0.9, 1],
          ],
        },
      ],
    });
    const second = walk(m, 't1', [
      [95, 50],
      [85, 50],
    ]);
    expect(crossings(second)).toEqual(['in']);
    expect(new Set([...first, ...second].map((e) => e.eventId)).size).toBe(2);
  });
});

describe('LineZoneMonitor: zones', () => {
  const square = CameraGeometrySchema.parse({
    zones: [
      {
        name: 'till',
        points: [
          [0.4, 0.4],
          [0.8, 0.4],
          [0.8, 0.8],
          [0.4, 0.8],
        ],
      },
    ],
  });

  it('reports entry and exit once, with the visit key, despite jitter at the edge', () => {
    const m = monitor(square);
    const events = walk(m, 't1', [
      [20, 60],
      [39, 60],
      [41, 60],
      [39.5, 60],
      [50, 60],
      [60, 60],
      [90, 60],
    ]);
    expect(events.map((e) => e.kind)).toEqual(['zone-entered', 'zone-exited']);
    const [enter, exit] = events;
    expect(enter?.ts).toBe(1400);
    expect(exit).toMatchObject({ kind: 'zone-exited', enteredTs: 1400, ts: 1600, reason: 'walked-out' });
  });

  it('ends the visit of a person whose track ends inside, at their last sighting', () => {
    const m = monitor(square);
    walk(m, 't1', [
      [60, 60],
      [62, 62],
    ]);
    const events = m.ended(['t1']);
    expect(events).toEqual([
      expect.objectContaining({ kind: 'zone-exited', enteredTs: 1000, ts: 1100, reason: 'track-ended' }),
    ]);
    expect(m.trackedPeople).toBe(0);
  });

  it('closes the visits of a zone removed at runtime', () => {
    let g: CameraGeometry = square;
    const m = monitor(() => g);
    walk(m, 't1', [[60, 60]]);
    g = { lines: [], zones: [] };
    const events = m.observe([at('t1', 61, 61)], 5000, FRAME, always);
    expect(events).toEqual([expect.objectContaining({ kind: 'zone-exited', reason: 'zone-removed', enteredTs: 1000 })]);
    expect(m.endAll()).toEqual([]);
  });
});
