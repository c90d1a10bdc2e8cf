import { describe, expect, it } from 'vitest';
import { NEW_TRACK, type Track } from './track';
import { faceDeltas, visitorMoves } from './bucket-deltas';

/** Thirty seconds before midnight: a minute later is another minute, hour and day. */
const T0 = Date.UTC(2026, 0, 5, 23, 59, 30);
const MIN = Date.UTC(2026, 0, 5, 23, 59);
const HOUR = Date.UTC(2026, 0, 5, 23);
const DAY = Date.UTC(2026, 0, 5);
const NEXT = Date.UTC(2026, 0, 6);

const track = (firstTs: number, vote: Track['vote']): Track => ({ ...NEW_TRACK, firstTs, lastTs: firstTs, vote });

describe('faceDeltas', () => {
  it('one face in the minute, hour and day of the frame', () => {
    expect(faceDeltas(T0)).toEqual([
      { size: 'minute', bucketStart: MIN, counts: { faces: 1 } },
      { size: 'hour', bucketStart: HOUR, counts: { faces: 1 } },
      { size: 'day', bucketStart: DAY, counts: { faces: 1 } },
    ]);
  });
});

describe('visitorMoves', () => {
  it('a new track is one visitor of its vote in its first-sighting buckets', () => {
    expect(visitorMoves(undefined, track(T0, 'unknown'))).toEqual([
      { size: 'minute', bucketStart: MIN, counts: { visitors: 1, unknown: 1 } },
      { size: 'hour', bucketStart: HOUR, counts: { visitors: 1, unknown: 1 } },
      { size: 'day', bucketStart: DAY, counts: { visitors: 1, unknown: 1 } },
    ]);
  });

  it('a vote flip moves the visitor between gender columns of the same buckets', () => {
    expect(visitorMoves(track(T0, 'unknown'), track(T0, 'female'))).toEqual([
      { size: 'minute', bucketStart: MIN, counts: { visitors: -1, unknown: -1 } },
      { size: 'minute', bucketStart: MIN, counts: { visitors: 1, female: 1 } },
      { size: 'hour', bucketStart: HOUR, counts: { visitors: -1, unknown: -1 } },
      { size: 'hour', bucketStart: HOUR, counts: { visitors: 1, female: 1 } },
      { size: 'day', bucketStart: DAY, counts: { visitors: -1, unknown: -1 } },
      { size: 'day', bucketStart: DAY, counts: { visitors: 1, female: 1 } },
    ]);
  });

  it('an earlier first sighting moves the visitor only in the bucket sizes whose bucket changed', () => {
    const later = track(NEXT + 10_000, 'male');
    const earlier = { ...later, firstTs: T0 };
    expect(visitorMoves(later, earlier)).toEqual([
      { size: 'minute', bucketStart: NEXT, counts: { visitors: -1, male: -1 } },
      { size: 'minute', bucketStart: MIN, counts: { visitors: 1, male: 1 } },
      { size: 'hour', bucketStart: NEXT, counts: { visitors: -1, male: -1 } },
      { size: 'hour', bucketStart: HOUR, counts: { visitors: 1, male: 1 } },
      { size: 'day', bucketStart: NEXT, counts: { visitors: -1, male: -1 } },
      { size: 'day', bucketStart: DAY, counts: { visitors: 1, male: 1 } },
    ]);
    // Within the same minute: nothing moves.
    expect(visitorMoves(track(T0, 'male'), track(T0 - 20_000, 'male'))).toEqual([]);
  });

  it('a change that keeps bucket and vote (more evidence, a longer stay) moves nothing', () => {
    expect(visitorMoves(track(T0, 'male'), { ...track(T0, 'male'), lastTs: T0 + 60_000, crops: 3 })).toEqual([]);
  });
});
