import { z } from 'zod';
import { defineTopic } from '../topic';
import { CameraIdSchema, MessageIdSchema } from '../ids';

export const TRACK_EVENT_SCHEMA_VERSION = 1;

/**
 * started: the track was confirmed (the person is a visitor from now on).
 * heartbeat: the track is still alive; sent periodically so a long stay is
 *   visible before it ends and survives an ingest crash (dwell so far).
 * ended: the track is closed; lastSeenTs is final.
 */
export const TrackEventKindSchema = z.enum(['started', 'heartbeat', 'ended']);
export type TrackEventKind = z.infer<typeof TrackEventKindSchema>;

/**
 * left: lost at the edge of the frame (walked out of view);
 * timeout: lost inside the frame (occlusion, detector misses) for longer than the tracker's max age;
 * shutdown: ingest stopped while the person was still in view;
 * stream-lost: the camera's stream ended or reconnected, so the track cannot continue;
 * view-changed: the whole picture changed at once (camera moved, a cut), so nobody can be followed across it.
 */
export const TrackEndReasonSchema = z.enum(['left', 'timeout', 'shutdown', 'stream-lost', 'view-changed']);
export type TrackEndReason = z.infer<typeof TrackEndReasonSchema>;

/** What a track follows: a person's body (people mode) or a face (faces mode). */
export const TrackUnitSchema = z.enum(['person', 'face']);
export type TrackUnit = z.infer<typeof TrackUnitSchema>;

/**
 * The lifetime of one track, from ingest to analytics. No image, no
 * embedding, no box: only times and counts. Visitors and dwell come from
 * these, never from which crops were classified. Applying the same event
 * twice changes nothing (first seen = min, last seen = max, frames = max).
 */
export const TrackEventSchema = z
  .object({
    schemaVersion: z.literal(TRACK_EVENT_SCHEMA_VERSION),
    eventId: MessageIdSchema.describe('unique per event: `${trackId}:${kind}:${seq}`; the idempotency key'),
    kind: TrackEventKindSchema,
    cameraId: CameraIdSchema,
    trackId: MessageIdSchema.describe("the same id the track's face crops and predictions carry"),
    unit: TrackUnitSchema,
    firstSeenTs: z
      .number()
      .int()
      .nonnegative()
      .describe('capture time of the first frame the track was seen in, epoch ms'),
    lastSeenTs: z.number().int().nonnegative().describe('capture time of the latest frame it was seen in, epoch ms'),
    frames: z.number().int().nonnegative().describe('analysed frames in which the track was matched'),
    largestFacePx: z
      .number()
      .nonnegative()
      .describe('largest face side seen on this track, pixels of the analysed frame; 0 = no face seen'),
    endReason: TrackEndReasonSchema.nullable().describe('set on ended events only'),
    emittedAt: z.number().int().nonnegative().describe('wall-clock time the event was sent, epoch ms'),
  })
  .strict()
  .refine((e) => e.lastSeenTs >= e.firstSeenTs, { message: 'lastSeenTs is before firstSeenTs', path: ['lastSeenTs'] })
  .refine((e) => (e.kind === 'ended') === (e.endReason !== null), {
    message: 'endReason is set on ended events and only on them',
    path: ['endReason'],
  });
export type TrackEvent = z.infer<typeof TrackEventSchema>;

export const TRACK_EVENTS_TOPIC = defineTopic({
  name: 'crowdlens.track-events.v1',
  schemaVersion: TRACK_EVENT_SCHEMA_VERSION,
  schema: TrackEventSchema,
  keyOf: (e: TrackEvent) => e.cameraId,
  contentType: 'application/json',
});
