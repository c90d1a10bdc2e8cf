import { describe, expect, it } from 'vitest';
import type { PredictionRecord, TrackEventRecord, TrackVoter } from '../aggregate-store.port';
import type { Track } from './track';
import { mergePrediction, mergeTrackEvent } from './track-merge';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
/** A gender from the first crop on, male above 0.5: enough to see the vote follow the evidence. */
const voter: TrackVoter = (crops, sum) => (sum / crops > 0.5 ? 'male' : sum / crops < 0.5 ? 'female' : 'unknown');

function crop(frameOffsetMs: number, probMale: number): PredictionRecord {
  return { predictionId: `p${frameOffsetMs}`, cameraId: 'cam', trackId: 't', frameTs: T0 + frameOffsetMs, probMale };
}

function event(over: Partial<TrackEventRecord>): TrackEventRecord {
  return {
    eventId: 'e',
    cameraId: 'cam',
    trackId: 't',
    unit: 'person',
    firstSeenTs: T0,
    lastSeenTs: T0 + 5_000,
    frames: 10,
    largestFacePx: 40,
    ended: false,
    endReason: null,
    ...over,
  };
}

describe('mergePrediction', () => {
  it('a first crop creates the track at its frame time with one crop of evidence', () => {
    expect(mergePrediction(undefined, crop(3_000, 0.8), voter)).toEqual<Track>({
      firstTs: T0 + 3_000,
      lastTs: T0 + 3_000,
      crops: 1,
      sumProbMale: 0.8,
      vote: 'male',
      frames: 0,
      largestFacePx: 0,
      ended: false,
      endReason: null,
      unit: null,
    });
  });

  it('adds evidence, widens the lifetime and decides the vote again on the sums', () => {
    const one = mergePrediction(undefined, crop(3_000, 0.8), voter);
    const two = mergePrediction(one, crop(1_000, 0.1), voter);
    expect(two).toMatchObject({ firstTs: T0 + 1_000, lastTs: T0 + 3_000, crops: 2, vote: 'female' });
    expect(two.sumProbMale).toBeCloseTo(0.9);
  });

  it('keeps what track events said: a crop inside the lifetime leaves times, frames and end alone', () => {
    const known = mergeTrackEvent(undefined, event({ ended: true, endReason: 'left', frames: 30 }));
    const next = mergePrediction(known, crop(2_000, 0.9), voter);
    expect(next).toEqual({ ...known, crops: 1, sumProbMale: 0.9, vote: 'male' });
  });
});

describe('mergeTrackEvent', () => {
  it('merges times as min/max, counts as max, ended as ever-ended, keeping the last known end reason', () => {
    const started = event({ eventId: 's', firstSeenTs: T0, lastSeenTs: T0, frames: 1, largestFacePx: 20 });
    const heartbeat = event({ eventId: 'h', firstSeenTs: T0, lastSeenTs: T0 + 9_000, frames: 50, largestFacePx: 64 });
    const ended = event({
      eventId: 'x',
      firstSeenTs: T0,
      lastSeenTs: T0 + 12_000,
      frames: 60,
      largestFacePx: 48,
      ended: true,
      endReason: 'left',
    });
    const want = { firstTs: T0, lastTs: T0 + 12_000, frames: 60, largestFacePx: 64, ended: true, endReason: 'left' };
    for (const order of [
      [started, heartbeat, ended],
      [ended, heartbeat, started],
      [heartbeat, ended, started],
    ]) {
      const track = order.reduce<Track | undefined>((t, e) => mergeTrackEvent(t, e), undefined);
      expect(track).toMatchObject(want);
    }
  });

  it('is idempotent: applying the same event again changes nothing', () => {
    const e = event({ ended: true, endReason: 'timeout' });
    const once = mergeTrackEvent(undefined, e);
    expect(mergeTrackEvent(once, e)).toEqual(once);
  });

  it('leaves the vote evidence of the track alone', () => {
    const voted = mergePrediction(undefined, crop(1_000, 0.9), voter);
    const next = mergeTrackEvent(voted, event({}));
    expect(next).toMatchObject({ crops: 1, sumProbMale: 0.9, vote: 'male', firstTs: T0, unit: 'person' });
  });
});
