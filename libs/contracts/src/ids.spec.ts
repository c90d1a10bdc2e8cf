import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GenderPredictionSchema } from './gender-predictions/gender-prediction.schema';
import { TrackEventSchema } from './track-events/track-event.schema';
import { CameraIdSchema, MessageIdSchema } from './ids';

const prediction = {
  schemaVersion: 1,
  predictionId: randomUUID(),
  cameraId: 'entrance',
  trackId: 'entrance-1a2b3c4d-17',
  frameTs: 1_700_000_000_000,
  probMale: 0.7,
  label: 'male',
  quality: 0.5,
  model: { name: 'm', version: '1' },
  inferenceMs: 3,
} as const;

const event = {
  schemaVersion: 1,
  eventId: 'entrance-1a2b3c4d-17:started:0',
  kind: 'started',
  cameraId: 'entrance',
  trackId: 'entrance-1a2b3c4d-17',
  unit: 'person',
  firstSeenTs: 1,
  lastSeenTs: 2,
  frames: 3,
  largestFacePx: 0,
  endReason: null,
  emittedAt: 3,
} as const;

describe('message ids in the contracts', () => {
  it('accepts the ids ingest makes', () => {
    expect(GenderPredictionSchema.safeParse(prediction).success).toBe(true);
    expect(TrackEventSchema.safeParse(event).success).toBe(true);
  });

  it('refuses ids a database cannot key on: NUL and other control characters, lone surrogates, padding, overlong', () => {
    for (const bad of ['p\u0000x', 'p\nx', 'p\u007fx', 'p\ud800x', ' p', 'p ', 'x'.repeat(257), '']) {
      expect(MessageIdSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
      expect(GenderPredictionSchema.safeParse({ ...prediction, predictionId: bad }).success).toBe(false);
      expect(GenderPredictionSchema.safeParse({ ...prediction, trackId: bad }).success).toBe(false);
      expect(TrackEventSchema.safeParse({ ...event, eventId: bad }).success).toBe(false);
    }
  });

  it('holds camera ids in messages to the config rule', () => {
    for (const bad of ['front door', 'a/b', '-lead', 'x'.repeat(65), 'cam\u0000', 'caméra']) {
      expect(CameraIdSchema.safeParse(bad).success, bad).toBe(false);
      expect(GenderPredictionSchema.safeParse({ ...prediction, cameraId: bad }).success).toBe(false);
      expect(TrackEventSchema.safeParse({ ...event, cameraId: bad }).success).toBe(false);
    }
    expect(CameraIdSchema.safeParse('Cam_2-north').success).toBe(true);
  });
});
