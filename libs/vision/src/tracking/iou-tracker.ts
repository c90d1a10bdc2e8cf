import type { Box } from '@crowdlens/contracts';
import type { TrackerConfig } from '@crowdlens/config';
import { solveAssignment } from './assignment';
import { centerOf, iou } from './box-math';

export interface TrackerDetection {
  readonly box: Box;
  readonly score: number;
}

export interface TrackedFace {
  readonly trackId: string;
  readonly box: Box;
  readonly score: number;
  /** Index of the detection in the `update` input. */
  readonly detectionIndex: number;
  /** True on the frame the track was confirmed (its first frame when minHits is 1). */
  readonly isNew: boolean;
  /** Frames in which this track was matched, this one included. */
  readonly hits: number;
  /** Time of the first frame this track was seen in, tentative frames included. */
  readonly firstTs: number;
}

export interface TrackerUpdate {
  /** Detections that belong to confirmed tracks, in input order. Tentative ones are left out. */
  readonly faces: TrackedFace[];
  /** Confirmed tracks closed by this update (unseen for longer than maxAgeMs). */
  readonly ended: string[];
  /** Detections held back this frame as tentative tracks (not yet minHits). */
  readonly tentative: number;
}

export interface IouTrackerOptions extends Pick<TrackerConfig, 'iouThreshold' | 'maxAgeMs'> {
  /**
   * Consecutive matched frames before a track is confirmed and its faces come
   * out (SORT's min_hits). A detector's one-frame false positive never becomes
   * a visitor; a tentative track that misses a frame is dropped. Default 1.
   */
  readonly minHits?: number;
  /**
   * Second-chance association for confirmed tracks that missed at least one
   * frame (occlusion, a detector miss): centre distance, in units of the
   * track's box size, under which an unmatched detection may resume it when
   * IoU with the prediction failed. 0 disables. Default 0.75.
   */
  readonly reassociateDistance?: number;
}

interface Track {
  /** Assigned on confirmation; '' while tentative. */
  id: string;
  box: Box;
  firstTs: number;
  lastTs: number;
  /** Centre velocity, px/ms; 0 until the track has been seen twice. */
  vx: number;
  vy: number;
  hits: number;
  confirmed: boolean;
}

/** Weight of the newest velocity measurement; smooths detector jitter. */
const VELOCITY_SMOOTHING = 0.6;

/**
 * Gives each face a `trackId` that stays the same while the person stays in
 * view, in the spirit of SORT (Bewley et al. 2016):
 *
 * - **motion model**: each track's box is moved forward by its
 *   constant-velocity estimate to the new frame's time before matching, which
 *   keeps ids through pans and low analysis rates (at 2 fps a walking face
 *   moves most of its width between frames) and keeps crossing people apart;
 * - **association**: optimal assignment (Hungarian) on 1 - IoU between
 *   predictions and detections, gated by `iouThreshold`; then confirmed tracks
 *   that missed frames get a second chance by centre distance, which
 *   re-associates a face after a short occlusion when the prediction drifted;
 * - **birth**: a track is confirmed after `minHits` consecutive matches;
 * - **death**: a track unseen for longer than `maxAgeMs` is closed, and a
 *   person who comes back after that gets a new id (a new visit).
 *
 * Ids are `${cameraId}-${runId}-${n}`, n counting confirmed tracks: unique per
 * camera run, so a restart never reuses a previous run's ids.
 */
export class IouTracker {
  private readonly tracks: Track[] = [];
  private counter = 0;
  private lastTs = Number.NEGATIVE_INFINITY;
  private readonly minHits: number;
  private readonly reassociateDistance: number;

  constructor(
    private readonly config: IouTrackerOptions,
    private readonly idPrefix: string,
  ) {
    this.minHits = config.minHits ?? 1;
    this.reassociateDistance = config.reassociateDistance ?? 0.75;
    if (!Number.isInteger(this.minHits) || this.minHits < 1)
      throw new RangeError(`minHits must be >= 1, got ${this.minHits}`);
  }

  /** Tracks confirmed so far in this run. */
  get tracksStarted(): number {
    return this.counter;
  }

  /** Time of the last frame the tracker saw (update or coast). */
  get lastFrameTs(): number {
    return this.lastTs;
  }

  /** Confirmed tracks alive now. */
  get activeTracks(): number {
    return this.tracks.filter((t) => t.confirmed).length;
  }

  /** `ts`: the frame's monotonic time (Frame.monoTs); a wall-clock time would go back when the clock is stepped. */
  update(detections: readonly TrackerDetection[], ts: number): TrackerUpdate {
    // Frames must arrive in order; a late one would corrupt the velocity estimates.
    if (ts < this.lastTs) throw new RangeError(`tracker frames out of order: ${ts} after ${this.lastTs}`);
    const previousTs = this.lastTs;
    this.lastTs = ts;
    const ended: string[] = [];
    for (let i = this.tracks.length - 1; i >= 0; i--) {
      const t = this.tracks[i] as Track;
      // A tentative track must be matched on every frame until confirmed.
      const dead = t.confirmed ? ts - t.lastTs > this.config.maxAgeMs : t.lastTs < previousTs;
      if (dead) {
        if (t.confirmed) ended.push(t.id);
        this.tracks.splice(i, 1);
      }
    }

    const predicted = this.tracks.map((t) => predict(t, ts));
    const threshold = this.config.iouThreshold;
    const iouCost = predicted.map((p) =>
      detections.map((det) => {
        const overlap = iou(p, det.box);
        return overlap > 0 && overlap >= threshold ? 1 - overlap : Number.POSITIVE_INFINITY;
      }),
    );
    const detTrack = new Map<number, Track>();
    const trackTaken = new Set<number>();
    for (const [ti, di] of solveAssignment(iouCost)) {
      detTrack.set(di, this.tracks[ti] as Track);
      trackTaken.add(ti);
    }

    if (this.reassociateDistance > 0) this.reassociate(detections, predicted, previousTs, detTrack, trackTaken);

    const faces: TrackedFace[] = [];
    let tentative = 0;
    detections.forEach((det, di) => {
      let track = detTrack.get(di);
      if (track) {
        observe(track, det.box, ts);
      } else {
        track = { id: '', box: det.box, firstTs: ts, lastTs: ts, vx: 0, vy: 0, hits: 1, confirmed: false };
        this.tracks.push(track);
      }
      let isNew = false;
      if (!track.confirmed && track.hits >= this.minHits) {
        track.confirmed = true;
        track.id = `${this.idPrefix}-${++this.counter}`;
        isNew = true;
      }
      if (!track.confirmed) {
        tentative++;
        return;
      }
      faces.push({
        trackId: track.id,
        box: det.box,
        score: det.score,
        detectionIndex: di,
        isNew,
        hits: track.hits,
        firstTs: track.firstTs,
      });
    });
    return { faces, ended, tentative };
  }

  /**
   * A frame skipped because nothing moved (motion gating): the tracks seen in
   * the last analysed frame are still where they were, so they are kept alive
   * (and at rest) rather than aged towards maxAgeMs.
   */
  coast(ts: number): void {
    if (ts < this.lastTs) throw new RangeError(`tracker frames out of order: ${ts} after ${this.lastTs}`);
    for (const t of this.tracks) {
      if (t.lastTs !== this.lastTs) continue;
      t.lastTs = ts;
      t.vx = 0;
      t.vy = 0;
    }
    this.lastTs = ts;
  }

  /** Closes every track (end of a run); returns the confirmed ones' ids. */
  reset(): string[] {
    const ids = this.tracks.filter((t) => t.confirmed).map((t) => t.id);
    this.tracks.length = 0;
    this.lastTs = Number.NEGATIVE_INFINITY;
    return ids;
  }

  private reassociate(
    detections: readonly TrackerDetection[],
    predicted: readonly Box[],
    previousTs: number,
    detTrack: Map<number, Track>,
    trackTaken: Set<number>,
  ): void {
    const lost: number[] = [];
    this.tracks.forEach((t, ti) => {
      if (t.confirmed && !trackTaken.has(ti) && t.lastTs < previousTs) lost.push(ti);
    });
    const free = detections.map((_, di) => di).filter((di) => !detTrack.has(di));
    if (lost.length === 0 || free.length === 0) return;
    const cost = lost.map((ti) => {
      const p = predicted[ti] as Box;
      const last = (this.tracks[ti] as Track).box;
      const size = Math.max(last.width, last.height);
      return free.map((di) => {
        const d = (detections[di] as TrackerDetection).box;
        const ratio = Math.max(d.width, d.height) / size;
        if (ratio < 0.5 || ratio > 2) return Number.POSITIVE_INFINITY;
        // The nearer of the prediction and the last sighting: a person who
        // stopped behind an obstacle reappears where they were last seen.
        const dist = Math.min(centreDistance(p, d), centreDistance(last, d)) / size;
        return dist <= this.reassociateDistance ? dist : Number.POSITIVE_INFINITY;
      });
    });
    for (const [li, fi] of solveAssignment(cost)) {
      const ti = lost[li] as number;
      detTrack.set(free[fi] as number, this.tracks[ti] as Track);
      trackTaken.add(ti);
    }
  }
}

function centreDistance(a: Box, b: Box): number {
  const ca = centerOf(a);
  const cb = centerOf(b);
  return Math.hypot(ca.cx - cb.cx, ca.cy - cb.cy);
}

function predict(t: Track, ts: number): Box {
  const dt = ts - t.lastTs;
  return { x: t.box.x + t.vx * dt, y: t.box.y + t.vy * dt, width: t.box.width, height: t.box.height };
}

function observe(t: Track, box: Box, ts: number): void {
  const dt = ts - t.lastTs;
  if (dt > 0) {
    const a = centerOf(t.box);
    const b = centerOf(box);
    const vx = (b.cx - a.cx) / dt;
    const vy = (b.cy - a.cy) / dt;
    // The first measurement is taken as is; later ones are blended.
    const w = t.hits === 1 ? 1 : VELOCITY_SMOOTHING;
    t.vx = w * vx + (1 - w) * t.vx;
    t.vy = w * vy + (1 - w) * t.vy;
  }
  t.box = box;
  t.lastTs = ts;
  t.hits++;
}
