import { describe, expect, it } from 'vitest';
import { TrackEventSchema } from '@crowdlens/contracts';
import { TrackLifecycle, type TrackObservation } from './track-lifecycle';

const frame = { width: 640, height: 480 };
/** A frame at `ts`, wall and monotonic clocks agreeing. */
const at = (ts: number) => ({ ...frame, ts, monoTs: ts });
const obs = (trackId: string, x: number, firstTs: number, hits: number, facePx = 0): TrackObservation => ({
  trackId,
  box: { x, y: 100, width: 40, height: 100 },
  firstTs,
  hits,
  facePx,
});

describe('TrackLifecycle', () => {
  it('reports a track once started, heartbeats while it lives, and its whole lifetime when it ends', () => {
    const life = new TrackLifecycle({ cameraId: 'c', unit: 'person', heartbeatMs: 10_000, now: () => 42 });
    // Confirmed on its second frame: first seen is the tentative frame's time.
    const started = life.observe([obs('t1', 300, 1_000, 2, 20)], at(1_200));
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ kind: 'started', firstSeenTs: 1_000, lastSeenTs: 1_200, frames: 2 });
    const events = [...started];
    let hits = 2;
    for (let ts = 1_400; ts <= 31_200; ts += 200)
      events.push(...life.observe([obs('t1', 300, 1_000, ++hits, 25)], at(ts)));
    const beats = events.filter((e) => e.kind === 'heartbeat');
    expect(beats.length).toBe(3);
    const ended = life.ended(['t1']);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({
      kind: 'ended',
      endReason: 'timeout',
      firstSeenTs: 1_000,
      lastSeenTs: 31_200,
      frames: hits,
      largestFacePx: 25,
      unit: 'person',
      emittedAt: 42,
    });
    const all = [...events, ...ended];
    for (const e of all) TrackEventSchema.parse(e);
    expect(new Set(all.map((e) => e.eventId)).size).toBe(all.length);
    expect(life.openTracks).toBe(0);
  });

  it('says a track lost at the frame edge left, and one lost mid-frame timed out', () => {
    const life = new TrackLifecycle({ cameraId: 'c', unit: 'person', heartbeatMs: 30_000 });
    life.observe([obs('edge', 610, 0, 2), obs('mid', 300, 0, 2)], at(100));
    const ended = life.ended(['edge', 'mid', 'unknown-id']);
    expect(ended.map((e) => [e.trackId, e.endReason])).toEqual([
      ['edge', 'left'],
      ['mid', 'timeout'],
    ]);
  });

  it('closes every open track on shutdown, and ignores frames of the finished run afterwards', () => {
    const life = new TrackLifecycle({ cameraId: 'c', unit: 'face', heartbeatMs: 30_000 });
    life.observe([obs('a', 100, 0, 2), obs('b', 300, 0, 2)], at(100));
    const closed = life.closeAll('shutdown');
    expect(closed.map((e) => e.endReason)).toEqual(['shutdown', 'shutdown']);
    expect(life.observe([obs('c', 200, 200, 2)], at(300))).toEqual([]);
    expect(life.closeAll('shutdown')).toEqual([]);
  });

  it('makes a track a visitor only once it has been in view minVisitorMs, and forgets one that ends sooner', () => {
    const life = new TrackLifecycle({ cameraId: 'c', unit: 'person', heartbeatMs: 30_000, minVisitorMs: 1000 });
    expect(life.observe([obs('blip', 300, 0, 2), obs('stay', 100, 0, 2)], at(200))).toEqual([]);
    expect(life.isVisitor('stay')).toBe(false);
    expect(life.ended(['blip'])).toEqual([]);
    const started = life.observe([obs('stay', 100, 0, 6)], at(1000));
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ kind: 'started', firstSeenTs: 0, lastSeenTs: 1000 });
    expect(life.isVisitor('stay')).toBe(true);
    expect(life.closeAll('shutdown').map((e) => e.trackId)).toEqual(['stay']);
  });
});
