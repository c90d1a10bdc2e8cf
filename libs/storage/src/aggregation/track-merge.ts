import type { PredictionRecord, TrackEventRecord, TrackVoter } from '../aggregate-store.port';
import { NEW_TRACK, type Track } from './track';

/**
 * A classified crop's track: one more crop of vote evidence, the vote decided again. `old` is
 * undefined for a track nobody has created yet.
 */
export function mergePrediction(old: Track | undefined, r: PredictionRecord, voter: TrackVoter): Track {
  const crops = (old?.crops ?? 0) + 1;
  const sumProbMale = (old?.sumProbMale ?? 0) + r.probMale;
  return {
    ...(old ?? NEW_TRACK),
    // The crop's frame lies inside the track's lifetime: it only widens a track known from predictions alone.
    firstTs: old ? Math.min(old.firstTs, r.frameTs) : r.frameTs,
    lastTs: old ? Math.max(old.lastTs, r.frameTs) : r.frameTs,
    crops,
    sumProbMale,
    vote: voter(crops, sumProbMale),
  };
}

/**
 * A track's lifetime: every field merges as min or max (ended as "ever ended"), so a replay, a
 * duplicate or any order of started / heartbeat / ended (and of the track's predictions) ends in
 * the same track. The vote evidence is left as it is.
 */
export function mergeTrackEvent(old: Track | undefined, e: TrackEventRecord): Track {
  return {
    ...(old ?? NEW_TRACK),
    firstTs: old ? Math.min(old.firstTs, e.firstSeenTs) : e.firstSeenTs,
    lastTs: old ? Math.max(old.lastTs, e.lastSeenTs) : e.lastSeenTs,
    frames: Math.max(old?.frames ?? 0, e.frames),
    largestFacePx: Math.max(old?.largestFacePx ?? 0, e.largestFacePx),
    ended: (old?.ended ?? false) || e.ended,
    endReason: e.endReason ?? old?.endReason ?? null,
    unit: e.unit,
  };
}
