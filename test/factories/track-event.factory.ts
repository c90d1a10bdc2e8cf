/**
 * Contract-valid track events, as ingest publishes them over a track's
 * lifetime: started, heartbeats, ended. Tests build whole lifetimes here
 * instead of spelling out the message in every file.
 */
import {
  TRACK_EVENT_SCHEMA_VERSION,
  type TrackEndReason,
  type TrackEvent,
  type TrackEventKind,
  type TrackUnit,
} from '@crowdlens/contracts';

export interface TrackEventInit {
  readonly cameraId: string;
  readonly trackId: string;
  readonly firstSeenTs: number;
  readonly lastSeenTs: number;
  /** Position of the event in its track's stream; part of the event id. */
  readonly seq: number;
  readonly unit?: TrackUnit;
  readonly frames?: number;
  readonly largestFacePx?: number;
  /** Ended events only; default `left`. */
  readonly endReason?: TrackEndReason;
}

/** Frames a track was matched in at 5 analysed fps, at least one. */
const framesOver = (ms: number): number => 1 + Math.floor(ms / 200);

export function trackEvent(kind: TrackEventKind, init: TrackEventInit): TrackEvent {
  return {
    schemaVersion: TRACK_EVENT_SCHEMA_VERSION,
    eventId: `${init.trackId}:${kind}:${init.seq}`,
    kind,
    cameraId: init.cameraId,
    trackId: init.trackId,
    unit: init.unit ?? 'person',
    firstSeenTs: init.firstSeenTs,
    lastSeenTs: init.lastSeenTs,
    frames: init.frames ?? framesOver(init.lastSeenTs - init.firstSeenTs),
    largestFacePx: init.largestFacePx ?? 0,
    endReason: kind === 'ended' ? (init.endReason ?? 'left') : null,
    emittedAt: init.lastSeenTs + 50,
  };
}

export interface LifetimeInit {
  readonly cameraId: string;
  readonly trackId: string;
  readonly firstSeenTs: number;
  readonly lastSeenTs: number;
  /** A heartbeat every this many ms of the stay (none at the ends); default 30 s. */
  readonly heartbeatMs?: number;
  /** No ended event (the person is still in view): the stay so far ends on a heartbeat at lastSeenTs. */
  readonly open?: boolean;
  readonly unit?: TrackUnit;
  /** Largest face on the whole track; it grows through the lifetime up to this. */
  readonly largestFacePx?: number;
  readonly endReason?: TrackEndReason;
}

/** started, a heartbeat every heartbeatMs, ended: what ingest sends for one person's stay. */
export function trackLifetime(init: LifetimeInit): TrackEvent[] {
  const { firstSeenTs, lastSeenTs } = init;
  const hb = init.heartbeatMs ?? 30_000;
  const face = init.largestFacePx ?? 0;
  const span = Math.max(1, lastSeenTs - firstSeenTs);
  const at = (seq: number, ts: number) => ({
    ...init,
    seq,
    lastSeenTs: ts,
    largestFacePx: Math.round((face * (ts - firstSeenTs)) / span),
  });
  const events = [trackEvent('started', at(0, firstSeenTs))];
  for (let ts = firstSeenTs + hb; ts < lastSeenTs; ts += hb)
    events.push(trackEvent('heartbeat', at(events.length, ts)));
  const last = { ...at(events.length, lastSeenTs), largestFacePx: face };
  if (!init.open) events.push(trackEvent('ended', last));
  else if (lastSeenTs > firstSeenTs) events.push(trackEvent('heartbeat', last));
  return events;
}
