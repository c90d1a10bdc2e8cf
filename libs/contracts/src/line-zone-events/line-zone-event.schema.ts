import { z } from 'zod';
import { defineTopic } from '../topic';
import { CameraIdSchema, MessageIdSchema } from '../ids';

export const LINE_ZONE_EVENT_SCHEMA_VERSION = 1;

export const CrossingDirectionSchema = z.enum(['in', 'out']);
export type CrossingDirection = z.infer<typeof CrossingDirectionSchema>;

const common = {
  schemaVersion: z.literal(LINE_ZONE_EVENT_SCHEMA_VERSION),
  eventId: MessageIdSchema.describe('unique per event, the same on a redelivery: the idempotency key'),
  cameraId: CameraIdSchema,
  trackId: MessageIdSchema.describe(
    "the person's track: the same id its track events and predictions carry, so its voted gender applies",
  ),
  name: z.string().min(1).describe("the line's or zone's name, unique per camera"),
  ts: z.number().int().nonnegative().describe('capture time of the frame it happened in, epoch ms'),
  emittedAt: z.number().int().nonnegative().describe('wall-clock time the event was sent, epoch ms'),
};

/**
 * What a person's track did relative to a camera's lines and zones: crossed a
 * line (once per crossing, with its direction), entered or left a zone. No
 * image, no box. The gender split comes from the track: analytics gives each
 * event the voted gender of its trackId, as it does for visitors.
 */
export const LineZoneEventSchema = z.discriminatedUnion('kind', [
  z.object({ ...common, kind: z.literal('line-crossed'), direction: CrossingDirectionSchema }).strict(),
  z.object({ ...common, kind: z.literal('zone-entered') }).strict(),
  z
    .object({
      ...common,
      kind: z.literal('zone-exited'),
      enteredTs: z.number().int().nonnegative().describe('ts of the matching zone-entered event: the visit key'),
      reason: z
        .enum(['walked-out', 'track-ended', 'zone-removed'])
        .describe('walked-out of the polygon, the track ended inside it, or the zone was removed or redrawn'),
    })
    .strict()
    .refine((e) => e.ts >= e.enteredTs, { message: 'ts is before enteredTs', path: ['ts'] }),
]);
export type LineZoneEvent = z.infer<typeof LineZoneEventSchema>;
export type LineZoneEventKind = LineZoneEvent['kind'];

export const LINE_ZONE_EVENTS_TOPIC = defineTopic({
  name: 'crowdlens.line-zone-events.v1',
  schemaVersion: LINE_ZONE_EVENT_SCHEMA_VERSION,
  schema: LineZoneEventSchema,
  keyOf: (e: LineZoneEvent) => e.cameraId,
  contentType: 'application/json',
});
