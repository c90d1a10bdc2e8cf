import type { PredictionRecord, TrackEventRecord, TrackVoter } from '../aggregate-store.port';
import { faceDeltas, visitorMoves, type BucketDelta } from './bucket-deltas';
import type { Track } from './track';
import { mergePrediction, mergeTrackEvent } from './track-merge';

/** A record's effect: the track to write back and the bucket counts to add, in order. */
export interface TrackChange {
  readonly track: Track;
  readonly deltas: readonly BucketDelta[];
}

/**
 * The aggregation rules with no storage under them: from a track as committed (undefined = not
 * created yet) and one record, the new track and bucket deltas. A store only locks and reads the
 * track, writes it back and adds the deltas, so what is counted is decided (and tested) here.
 */
export class TrackAggregator {
  /** `voter` is analytics' gender rule with its policy. */
  constructor(private readonly voter: TrackVoter) {}

  /** A classified crop: one more face in its frame's buckets, more vote evidence for its track. */
  prediction(old: Track | undefined, r: PredictionRecord): TrackChange {
    const track = mergePrediction(old, r, this.voter);
    return { track, deltas: [...faceDeltas(r.frameTs), ...visitorMoves(old, track)] };
  }

  /** A lifetime event: a wider lifetime may move the visitor to an earlier first-sighting bucket. */
  trackEvent(old: Track | undefined, e: TrackEventRecord): TrackChange {
    const track = mergeTrackEvent(old, e);
    return { track, deltas: visitorMoves(old, track) };
  }
}
