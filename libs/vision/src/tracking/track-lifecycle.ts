import type { Box, TrackEndReason, TrackEvent, TrackEventKind, TrackUnit } from '@crowdlens/contracts';
import { TRACK_EVENT_SCHEMA_VERSION } from '@crowdlens/contracts';

export interface TrackObservation {
  readonly trackId: string;
  readonly box: Box;
  /** Monotonic time of the track's first frame (tentative frames included). */
  readonly firstTs: number;
  /** Frames the track was matched in so far. */
  readonly hits: number;
  /** Side of the face seen on the subject in this frame, px; 0 when none. */
  readonly facePx: number;
}

export interface TrackLifecycleOptions {
  readonly cameraId: string;
  readonly unit: TrackUnit;
  /** A live track reports itself this often (monotonic frame time). */
  readonly heartbeatMs: number;
  /**
   * A track is a visitor (reported as started) only once it has been in view
   * this long: the detector's flicker and a tracker's brief fragments are not
   * people. One that ends sooner is never reported. Default 0.
   */
  readonly minVisitorMs?: number;
  /** Wall clock for `emittedAt` only; track times are frame times. */
  readonly now?: () => number;
}

/** The frame a set of observations comes from: its two capture times and its size. */
export interface ObservedFrame {
  /** Wall clock, epoch ms. */
  readonly ts: number;
  /** Monotonic ms. */
  readonly monoTs: number;
  readonly width: number;
  readonly height: number;
}

interface OpenTrack {
  readonly trackId: string;
  /** Started was sent: the track is a visitor. */
  reported: boolean;
  /** Monotonic times: every duration (visitor threshold, heartbeats, dwell) is measured on them. */
  readonly firstMono: number;
  lastMono: number;
  /**
   * The wall-clock time of the first frame. The track's reported times are this plus monotonic
   * durations: a wall-clock step while the person is in view neither reorders nor stretches the
   * stay, and each new track picks up the corrected clock.
   */
  readonly firstWall: number;
  frames: number;
  largestFacePx: number;
  lastBox: Box;
  lastReportMono: number;
  seq: number;
}

/** A box this close to a frame edge (fraction of the frame) was leaving the view when it was lost. */
const EDGE_MARGIN = 0.03;

/**
 * Turns what the tracker sees into track events: started when a track is
 * confirmed, a heartbeat every `heartbeatMs` while it lives, ended once when
 * it closes, with why. The lifetime is the track's own (first frame seen to
 * last frame seen), independent of which crops were classified: dwell and
 * visitors come from here.
 */
export class TrackLifecycle {
  private readonly open = new Map<string, OpenTrack>();
  private readonly now: () => number;
  private frame = { width: 0, height: 0 };
  /** After closeAll: frames of a finished run still in flight must not reopen tracks nobody will close. */
  private closed = false;

  constructor(private readonly opts: TrackLifecycleOptions) {
    this.now = opts.now ?? Date.now;
  }

  get openTracks(): number {
    return this.open.size;
  }

  /** Whether the track is a visitor yet (its started event went out): only those get their faces classified. */
  isVisitor(trackId: string): boolean {
    return this.open.get(trackId)?.reported ?? false;
  }

  /** The confirmed tracks seen in one analysed frame; returns the events to publish. */
  observe(seen: readonly TrackObservation[], frame: ObservedFrame): TrackEvent[] {
    if (this.closed) return [];
    this.frame = { width: frame.width, height: frame.height };
    const mono = frame.monoTs;
    const events: TrackEvent[] = [];
    for (const o of seen) {
      let t = this.open.get(o.trackId);
      if (!t) {
        const firstMono = Math.min(o.firstTs, mono);
        t = {
          trackId: o.trackId,
          reported: false,
          firstMono,
          lastMono: mono,
          firstWall: Math.round(frame.ts - (mono - firstMono)),
          frames: o.hits,
          largestFacePx: o.facePx,
          lastBox: o.box,
          lastReportMono: mono,
          seq: 0,
        };
        this.open.set(o.trackId, t);
      } else {
        t.lastMono = Math.max(t.lastMono, mono);
        t.frames = o.hits;
        t.largestFacePx = Math.max(t.largestFacePx, o.facePx);
        t.lastBox = o.box;
      }
      if (!t.reported) {
        if (t.lastMono - t.firstMono >= (this.opts.minVisitorMs ?? 0)) {
          t.reported = true;
          t.lastReportMono = mono;
          events.push(this.event(t, 'started', null));
        }
        continue;
      }
      if (mono - t.lastReportMono >= this.opts.heartbeatMs) {
        t.lastReportMono = mono;
        events.push(this.event(t, 'heartbeat', null));
      }
    }
    return events;
  }

  /** A monotonic time on an open track's time line, as wall-clock epoch ms (a crop's frame time); null when not open. */
  wallTimeOf(trackId: string, monoTs: number): number | null {
    const t = this.open.get(trackId);
    return t ? this.wallOf(t, monoTs) : null;
  }

  private wallOf(t: OpenTrack, monoTs: number): number {
    return Math.round(t.firstWall + (monoTs - t.firstMono));
  }

  /** Tracks the tracker closed (unseen for its max age): left at an edge, or lost inside the view. */
  ended(trackIds: readonly string[]): TrackEvent[] {
    const events: TrackEvent[] = [];
    for (const id of trackIds) {
      const t = this.open.get(id);
      if (!t) continue;
      this.open.delete(id);
      if (!t.reported) continue; // never a visitor: nothing to end
      events.push(this.event(t, 'ended', this.atEdge(t.lastBox) ? 'left' : 'timeout'));
    }
    return events;
  }

  /** Ends every open track; later frames may open new ones (the view changed). */
  endAll(reason: Extract<TrackEndReason, 'shutdown' | 'stream-lost' | 'view-changed'>): TrackEvent[] {
    const events = [...this.open.values()].filter((t) => t.reported).map((t) => this.event(t, 'ended', reason));
    this.open.clear();
    return events;
  }

  /** Ends every open track for good (shutdown, end of stream): frames of this run still in flight are ignored. */
  closeAll(reason: Extract<TrackEndReason, 'shutdown' | 'stream-lost'>): TrackEvent[] {
    const events = this.endAll(reason);
    this.closed = true;
    return events;
  }

  private atEdge(b: Box): boolean {
    const { width, height } = this.frame;
    if (width === 0 || height === 0) return false;
    const mx = width * EDGE_MARGIN;
    const my = height * EDGE_MARGIN;
    return b.x <= mx || b.y <= my || b.x + b.width >= width - mx || b.y + b.height >= height - my;
  }

  private event(t: OpenTrack, kind: TrackEventKind, endReason: TrackEndReason | null): TrackEvent {
    return {
      schemaVersion: TRACK_EVENT_SCHEMA_VERSION,
      eventId: `${t.trackId}:${kind}:${t.seq++}`,
      kind,
      cameraId: this.opts.cameraId,
      trackId: t.trackId,
      unit: this.opts.unit,
      firstSeenTs: t.firstWall,
      lastSeenTs: this.wallOf(t, t.lastMono),
      frames: t.frames,
      largestFacePx: Math.round(t.largestFacePx * 10) / 10,
      endReason,
      emittedAt: this.now(),
    };
  }
}
