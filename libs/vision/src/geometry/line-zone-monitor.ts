import type { CameraGeometry, CountingLine, CountingZone } from '@crowdlens/config';
import { LINE_ZONE_EVENT_SCHEMA_VERSION, type Box, type LineZoneEvent } from '@crowdlens/contracts';
import { crossingFraction, distanceToEdges, insidePolygon, signedDistance, type Point } from './plane-geometry';

export interface LineZoneMonitorOptions {
  readonly cameraId: string;
  /** The camera's lines and zones now; read on every frame, so an edit applies from the next frame. */
  readonly geometry: () => CameraGeometry;
  /**
   * Half-width of the band around a line or zone edge inside which a foot point changes nothing,
   * as a fraction of the picture's shorter side: box jitter on a person standing on the line is
   * not a crossing. Default 0.02 (11 px on 576 lines).
   */
  readonly band?: number;
  /** Wall clock for `emittedAt` only. */
  readonly now?: () => number;
}

/** A tracked person in one analysed frame. */
export interface PersonInFrame {
  readonly trackId: string;
  readonly box: Box;
}

interface LineState {
  /** The line as it was when this state began: a redrawn line starts afresh. */
  readonly key: string;
  /** Side the foot point was last seen clearly on: 1 (the "in" side), -1, 0 = not yet. */
  side: -1 | 0 | 1;
  /** The foot point's latest position on that side, and its signed distance. */
  last: Point;
  lastDistance: number;
}

interface ZoneState {
  readonly key: string;
  inside: boolean;
  enteredTs: number;
}

interface TrackState {
  readonly trackId: string;
  /** Events wait here until the track is a visitor (confirmed and in view long enough). */
  visitor: boolean;
  pending: LineZoneEvent[];
  readonly lines: Map<string, LineState>;
  readonly zones: Map<string, ZoneState>;
  lastTs: number;
  seq: number;
}

/** A track that never becomes a visitor cannot hold more than this many events. */
const MAX_PENDING = 64;

const keyOf = (g: CountingLine | CountingZone): string => JSON.stringify(g.points);

/**
 * Turns people's positions into line crossings and zone entries/exits for one
 * camera run. The position is the foot point, the bottom-centre of the body
 * box: where the person stands on the floor, which is what a line painted
 * across a doorway or a zone drawn on the floor is about. The box centre
 * would move with the box's height (a person half hidden behind a counter,
 * or detected head-to-knee on one frame and whole on the next) and would cross
 * a floor line at a different place than the feet do.
 *
 * A crossing is counted once: the foot point must be seen clearly on one side
 * (outside a small band around the line), then clearly on the other, and the
 * step between those two sightings must pass between the line's two ends.
 * Standing on the line, or jitter across it, counts nothing. Zones use the
 * same band around their edges.
 *
 * Only visitors count (tracks the lifecycle reported as started): events of
 * a track wait until it becomes one, and are dropped if it never does, so a
 * flickering false detection never crosses anything.
 */
export class LineZoneMonitor {
  private readonly tracks = new Map<string, TrackState>();
  private readonly now: () => number;
  private frame = { width: 0, height: 0 };

  constructor(private readonly opts: LineZoneMonitorOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * People seen in one frame (frame order). `isVisitor` says which tracks are visitors now; their
   * waiting events are released with this frame's.
   */
  observe(
    people: readonly PersonInFrame[],
    ts: number,
    frame: { readonly width: number; readonly height: number },
    isVisitor: (trackId: string) => boolean,
  ): LineZoneEvent[] {
    this.frame = { width: frame.width, height: frame.height };
    const { lines, zones } = this.opts.geometry();
    const events: LineZoneEvent[] = [];
    const band = (this.opts.band ?? 0.02) * Math.min(frame.width, frame.height);
    for (const person of people) {
      const t = this.trackOf(person.trackId);
      t.lastTs = Math.max(t.lastTs, ts);
      const out: LineZoneEvent[] = [];
      this.forgetRemoved(t, lines, zones, ts, out);
      const foot: Point = [person.box.x + person.box.width / 2, person.box.y + person.box.height];
      for (const line of lines) this.checkLine(t, person.trackId, line, foot, band, ts, out);
      for (const zone of zones) this.checkZone(t, person.trackId, zone, foot, band, ts, out);
      if (!t.visitor && isVisitor(person.trackId)) {
        t.visitor = true;
        events.push(...t.pending);
        t.pending = [];
      }
      if (t.visitor) events.push(...out);
      else t.pending.push(...out.slice(0, Math.max(0, MAX_PENDING - t.pending.length)));
    }
    return events;
  }

  /** Tracks that ended: a visitor inside a zone leaves it at its last sighting. */
  ended(trackIds: readonly string[]): LineZoneEvent[] {
    const events: LineZoneEvent[] = [];
    for (const id of trackIds) {
      const t = this.tracks.get(id);
      if (!t) continue;
      this.tracks.delete(id);
      if (t.visitor) events.push(...this.exitAll(t));
    }
    return events;
  }

  /** Every track ends (shutdown, stream lost, view changed). */
  endAll(): LineZoneEvent[] {
    return this.ended([...this.tracks.keys()]);
  }

  get trackedPeople(): number {
    return this.tracks.size;
  }

  private trackOf(trackId: string): TrackState {
    let t = this.tracks.get(trackId);
    if (!t) {
      t = { trackId, visitor: false, pending: [], lines: new Map(), zones: new Map(), lastTs: 0, seq: 0 };
      this.tracks.set(trackId, t);
    }
    return t;
  }

  /** A line or zone removed or redrawn: its state goes, and whoever was inside a zone leaves it. */
  private forgetRemoved(
    t: TrackState,
    lines: readonly CountingLine[],
    zones: readonly CountingZone[],
    ts: number,
    out: LineZoneEvent[],
  ): void {
    for (const [name, state] of t.lines) {
      const line = lines.find((l) => l.name === name);
      if (!line || keyOf(line) !== state.key) t.lines.delete(name);
    }
    for (const [name, state] of t.zones) {
      const zone = zones.find((z) => z.name === name);
      if (zone && keyOf(zone) === state.key) continue;
      t.zones.delete(name);
      if (state.inside) out.push(this.exitEvent(t, name, state.enteredTs, t.lastTs || ts, 'zone-removed'));
    }
  }

  private checkLine(
    t: TrackState,
    trackId: string,
    line: CountingLine,
    foot: Point,
    band: number,
    ts: number,
    out: LineZoneEvent[],
  ): void {
    const a = this.toPixels(line.points[0]);
    const b = this.toPixels(line.points[1]);
    const d = signedDistance(foot, a, b);
    const side = d > band ? 1 : d < -band ? -1 : 0;
    let state = t.lines.get(line.name);
    if (!state) {
      state = { key: keyOf(line), side: 0, last: foot, lastDistance: d };
      t.lines.set(line.name, state);
    }
    if (side === 0) return;
    if (state.side !== 0 && side !== state.side) {
      const along = crossingFraction(state.last, state.lastDistance, foot, d, a, b);
      if (along >= 0 && along <= 1)
        out.push({
          schemaVersion: LINE_ZONE_EVENT_SCHEMA_VERSION,
          kind: 'line-crossed',
          eventId: `${trackId}:line-crossed:${line.name}:${t.seq++}`,
          cameraId: this.opts.cameraId,
          trackId,
          name: line.name,
          direction: side === 1 ? 'in' : 'out',
          ts,
          emittedAt: this.now(),
        });
    }
    state.side = side;
    state.last = foot;
    state.lastDistance = d;
  }

  private checkZone(
    t: TrackState,
    trackId: string,
    zone: CountingZone,
    foot: Point,
    band: number,
    ts: number,
    out: LineZoneEvent[],
  ): void {
    const polygon = zone.points.map((p) => this.toPixels(p));
    const inside = insidePolygon(foot, polygon);
    let state = t.zones.get(zone.name);
    if (!state) {
      // First sighting decides without the band: someone who appears inside is inside.
      state = { key: keyOf(zone), inside: false, enteredTs: ts };
      t.zones.set(zone.name, state);
      if (!inside) return;
    } else if (inside === state.inside || distanceToEdges(foot, polygon) <= band) return;
    if (inside) {
      state.inside = true;
      state.enteredTs = ts;
      out.push({
        schemaVersion: LINE_ZONE_EVENT_SCHEMA_VERSION,
        kind: 'zone-entered',
        eventId: `${trackId}:zone-entered:${zone.name}:${ts}`,
        cameraId: this.opts.cameraId,
        trackId,
        name: zone.name,
        ts,
        emittedAt: this.now(),
      });
    } else {
      state.inside = false;
      out.push(this.exitEvent(t, zone.name, state.enteredTs, ts, 'walked-out'));
    }
  }

  private exitAll(t: TrackState): LineZoneEvent[] {
    return [...t.zones]
      .filter(([, z]) => z.inside)
      .map(([name, z]) => this.exitEvent(t, name, z.enteredTs, t.lastTs, 'track-ended'));
  }

  private exitEvent(
    t: TrackState,
    name: string,
    enteredTs: number,
    ts: number,
    reason: 'walked-out' | 'track-ended' | 'zone-removed',
  ): LineZoneEvent {
    const id = t.trackId;
    return {
      schemaVersion: LINE_ZONE_EVENT_SCHEMA_VERSION,
      kind: 'zone-exited',
      eventId: `${id}:zone-exited:${name}:${enteredTs}`,
      cameraId: this.opts.cameraId,
      trackId: id,
      name,
      ts: Math.max(ts, enteredTs),
      enteredTs,
      reason,
      emittedAt: this.now(),
    };
  }

  private toPixels(p: readonly [number, number]): Point {
    return [p[0] * this.frame.width, p[1] * this.frame.height];
  }
}
