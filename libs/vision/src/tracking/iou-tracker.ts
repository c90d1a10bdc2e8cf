import type { Box } from '@crowdlens/contracts';
import type { TrackerConfig } from '@crowdlens/config';
import { centerOf, iou } from './box-math';

export interface TrackerDetection {
  readonly box: Box;
  readonly score: number;
}

export interface TrackedFace {
  readonly trackId: string;
  readonly box: Box;
  readonly score: number;
  /** True on the frame that opened the track. */
  readonly isNew: boolean;
  /** Frames in which this track was matched, this one included. */
  readonly hits: number;
}

export interface TrackerUpdate {
  /** One entry per input detection, same order. */
  readonly faces: TrackedFace[];
  /** Tracks closed by this update (unseen for longer than maxAgeMs). */
  readonly ended: string[];
}

interface Track {
  readonly id: string;
  box: Box;
  lastTs: number;
  /** Centre velocity, px/ms; 0 until the track has been seen twice. */
  vx: number;
  vy: number;
  hits: number;
}

/** Weight of the newest velocity measurement; smooths detector jitter. */
const VELOCITY_SMOOTHING = 0.6;

/**
 * Gives each face a `trackId` that stays the same while the person stays in
 * view. Each live track's box is moved forward by its constant-velocity
 * estimate to the new frame's time before matching, which keeps ids through
 * pans and low analysis rates (at 2 fps a walking face moves most of its
 * width between frames) and keeps crossing people apart. Matching is greedy
 * on IoU, best pair first; a track unseen for longer than `maxAgeMs` is
 * closed, and a person who comes back after that gets a new id (a new visit).
 *
 * Ids are `${cameraId}-${runId}-${n}`: unique per camera run, so a restart
 * never reuses a previous run's ids.
 */
export class IouTracker {
  private readonly tracks: Track[] = [];
  private counter = 0;
  private lastTs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly config: Pick<TrackerConfig, 'iouThreshold' | 'maxAgeMs'>,
    private readonly idPrefix: string,
  ) {}

  /** Tracks opened so far in this run. */
  get tracksStarted(): number {
    return this.counter;
  }

  get activeTracks(): number {
    return this.tracks.length;
  }

  update(detections: readonly TrackerDetection[], ts: number): TrackerUpdate {
    // Frames must arrive in order; a late one would corrupt the velocity estimates.
    if (ts < this.lastTs) throw new RangeError(`tracker frames out of order: ${ts} after ${this.lastTs}`);
    this.lastTs = ts;

    const ended: string[] = [];
    for (let i = this.tracks.length - 1; i >= 0; i--) {
      const t = this.tracks[i] as Track;
      if (ts - t.lastTs > this.config.maxAgeMs) {
        ended.push(t.id);
        this.tracks.splice(i, 1);
      }
    }

    const predicted = this.tracks.map((t) => predict(t, ts));
    const pairs: { t: number; d: number; iou: number }[] = [];
    predicted.forEach((p, ti) => {
      detections.forEach((det, di) => {
        const overlap = iou(p, det.box);
        if (overlap >= this.config.iouThreshold && overlap > 0) pairs.push({ t: ti, d: di, iou: overlap });
      });
    });
    pairs.sort((a, b) => b.iou - a.iou);

    const trackTaken = new Set<number>();
    const detTrack = new Map<number, Track>();
    for (const p of pairs) {
      if (trackTaken.has(p.t) || detTrack.has(p.d)) continue;
      trackTaken.add(p.t);
      detTrack.set(p.d, this.tracks[p.t] as Track);
    }

    const faces = detections.map((det, di): TrackedFace => {
      const matched = detTrack.get(di);
      if (matched) {
        observe(matched, det.box, ts);
        return { trackId: matched.id, box: det.box, score: det.score, isNew: false, hits: matched.hits };
      }
      const track: Track = {
        id: `${this.idPrefix}-${++this.counter}`,
        box: det.box,
        lastTs: ts,
        vx: 0,
        vy: 0,
        hits: 1,
      };
      this.tracks.push(track);
      return { trackId: track.id, box: det.box, score: det.score, isNew: true, hits: 1 };
    });
    return { faces, ended };
  }

  /** Closes every track (end of a run); returns their ids. */
  reset(): string[] {
    const ids = this.tracks.map((t) => t.id);
    this.tracks.length = 0;
    this.lastTs = Number.NEGATIVE_INFINITY;
    return ids;
  }
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
