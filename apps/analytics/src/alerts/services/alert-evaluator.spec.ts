import { describe, expect, it } from 'vitest';
import { parseConfig, type AlertRule } from '@crowdlens/config';
import type { Clock } from '@crowdlens/runtime';
import { CAMERA_STATUS_SCHEMA_VERSION, type CameraStatus } from '@crowdlens/contracts';
import { AlertEvaluator, type ZoneReading } from './alert-evaluator';

/** Moved by hand, both readings together (test/factories/fake-clock.ts, which specs cannot import). */
class FakeClock implements Clock {
  private wall = Date.UTC(2026, 0, 5, 9, 0, 0);
  private mono = 1_000;
  now(): number {
    return this.wall;
  }
  monotonicMs(): number {
    return this.mono;
  }
  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }
}

function cameraStatus(over: Partial<CameraStatus> & { cameraId: string }): CameraStatus {
  return {
    schemaVersion: CAMERA_STATUS_SCHEMA_VERSION,
    name: over.cameraId,
    url: 'rtsp://***:***@10.0.0.9/stream',
    state: 'streaming',
    lastError: null,
    fps: 5,
    framesIn: 100,
    framesAnalysed: 100,
    framesDropped: 0,
    framesSkipped: 0,
    facesDetected: 10,
    tracks: 3,
    reconnects: 0,
    updatedAt: Date.UTC(2026, 0, 5, 9, 0, 0),
    ...over,
  };
}

const rulesOf = (rules: unknown[]): AlertRule[] => parseConfig({ alerts: { rules } }).alerts.rules;

function setup(rules: unknown[], statusStaleMs = 30_000) {
  const clock = new FakeClock();
  const evaluator = new AlertEvaluator(rulesOf(rules), { statusStaleMs }, clock);
  return { clock, evaluator };
}

/** A camera whose status ingest republishes (heartbeat) at each call, as a streaming camera does. */
const at = (clock: FakeClock, over: Partial<CameraStatus> & { cameraId: string }) =>
  cameraStatus({ updatedAt: clock.now(), ...over });

describe('AlertEvaluator', () => {
  it('camera-down fires once after forSeconds, stays quiet while it holds, resolves once', () => {
    const { clock, evaluator } = setup([{ type: 'camera-down', name: 'down', forSeconds: 10 }]);
    const started = clock.now();
    expect(evaluator.evaluate([at(clock, { cameraId: 'door', state: 'backoff' })], [])).toEqual([]);
    clock.advance(9_999);
    expect(evaluator.evaluate([cameraStatus({ cameraId: 'door', state: 'backoff', updatedAt: started })], [])).toEqual(
      [],
    );
    expect(evaluator.firing()).toEqual([]);
    clock.advance(1);
    const fired = evaluator.evaluate([cameraStatus({ cameraId: 'door', state: 'backoff', updatedAt: started })], []);
    expect(fired).toEqual([
      {
        rule: 'down',
        type: 'camera-down',
        cameraId: 'door',
        cameraName: 'door',
        zone: null,
        threshold: null,
        forSeconds: 10,
        state: 'firing',
        value: 'backoff',
        startedAt: started,
        at: started + 10_000,
      },
    ]);
    // Still down, now failed: no second message, the listing shows the latest value.
    for (let i = 0; i < 20; i++) {
      clock.advance(1000);
      expect(
        evaluator.evaluate([cameraStatus({ cameraId: 'door', state: i < 10 ? 'backoff' : 'failed' })], []),
      ).toEqual([]);
    }
    expect(evaluator.firing()).toMatchObject([
      { rule: 'down', cameraId: 'door', value: 'failed', firedAt: started + 10_000 },
    ]);
    clock.advance(1000);
    const resolved = evaluator.evaluate([at(clock, { cameraId: 'door', state: 'streaming' })], []);
    expect(resolved).toMatchObject([{ rule: 'down', state: 'resolved', value: 'streaming', startedAt: started }]);
    expect(evaluator.firing()).toEqual([]);
    expect(evaluator.heldCount).toBe(0);
    clock.advance(1000);
    expect(evaluator.evaluate([at(clock, { cameraId: 'door', state: 'streaming' })], [])).toEqual([]);
  });

  it('a condition that clears before forSeconds never fires, and the clock starts again next time', () => {
    const { clock, evaluator } = setup([{ type: 'camera-stalled', name: 'stall', forSeconds: 5 }]);
    evaluator.evaluate([at(clock, { cameraId: 'c', state: 'backoff' })], []);
    clock.advance(4000);
    expect(evaluator.evaluate([at(clock, { cameraId: 'c', state: 'streaming' })], [])).toEqual([]);
    clock.advance(1000);
    expect(evaluator.evaluate([at(clock, { cameraId: 'c', state: 'backoff' })], [])).toEqual([]);
    clock.advance(4999);
    expect(evaluator.evaluate([at(clock, { cameraId: 'c', state: 'backoff' })], [])).toEqual([]);
    clock.advance(1);
    expect(evaluator.evaluate([at(clock, { cameraId: 'c', state: 'failed' })], [])).toMatchObject([
      { state: 'firing', value: 'failed' },
    ]);
  });

  it('a camera that streamed between two evaluations starts a new outage: frames in say so, not the states seen', () => {
    // Start-up "connecting" for 2.5 s, then streaming and a drop, both between two evaluations:
    // the old hold would fire at once, dated from the start-up, as if the camera never streamed.
    const { clock, evaluator } = setup([{ type: 'camera-down', name: 'down', forSeconds: 3 }]);
    evaluator.evaluate([at(clock, { cameraId: 'c', state: 'connecting', framesIn: 0 })], []);
    clock.advance(3500);
    const dropAt = clock.now();
    expect(evaluator.evaluate([at(clock, { cameraId: 'c', state: 'backoff', framesIn: 40 })], [])).toEqual([]);
    clock.advance(2999);
    expect(evaluator.evaluate([at(clock, { cameraId: 'c', state: 'connecting', framesIn: 40 })], [])).toEqual([]);
    clock.advance(1);
    expect(evaluator.evaluate([at(clock, { cameraId: 'c', state: 'backoff', framesIn: 40 })], [])).toMatchObject([
      { state: 'firing', value: 'backoff', startedAt: dropAt },
    ]);
    // A fired outage that a brief stream ends between evaluations resolves, and the next one waits its turn.
    clock.advance(1000);
    const next = evaluator.evaluate([at(clock, { cameraId: 'c', state: 'backoff', framesIn: 41 })], []);
    expect(next).toMatchObject([{ state: 'resolved', value: 'streaming', startedAt: dropAt }]);
    expect(evaluator.firing()).toEqual([]);
    expect(evaluator.heldCount).toBe(1);
  });

  it('camera-stalled watches backoff and failed only; camera-down also connecting, never stopped', () => {
    const { clock, evaluator } = setup([
      { type: 'camera-down', name: 'down', forSeconds: 0 },
      { type: 'camera-stalled', name: 'stall', forSeconds: 0 },
    ]);
    const states = ['connecting', 'backoff', 'failed', 'stopped', 'streaming'] as const;
    const fired = evaluator.evaluate(
      states.map((state) => at(clock, { cameraId: state, state })),
      [],
    );
    expect(fired.map((t) => `${t.rule}:${t.cameraId}`).sort()).toEqual([
      'down:backoff',
      'down:connecting',
      'down:failed',
      'stall:backoff',
      'stall:failed',
    ]);
  });

  it('a streaming camera whose status stops arriving counts as down (its ingest is gone)', () => {
    const { clock, evaluator } = setup([{ type: 'camera-down', name: 'down', forSeconds: 5 }], 15_000);
    const last = at(clock, { cameraId: 'c', state: 'streaming' });
    evaluator.evaluate([last], []);
    clock.advance(14_999);
    expect(evaluator.evaluate([last], [])).toEqual([]);
    clock.advance(1);
    expect(evaluator.evaluate([last], [])).toEqual([]); // silent now; forSeconds starts
    clock.advance(5000);
    expect(evaluator.evaluate([last], [])).toMatchObject([{ state: 'firing', value: 'silent' }]);
    clock.advance(1000);
    expect(evaluator.evaluate([at(clock, { cameraId: 'c', state: 'streaming' })], [])).toMatchObject([
      { state: 'resolved', value: 'streaming' },
    ]);
  });

  it('detector-latency compares with aboveMs while streaming and holds its state while the camera is down', () => {
    const { clock, evaluator } = setup([{ type: 'detector-latency', name: 'slow', aboveMs: 500, forSeconds: 2 }]);
    const cam = (detectMsRecent: number, state: CameraStatus['state'] = 'streaming') =>
      at(clock, { cameraId: 'c', state, detectMsRecent });
    expect(evaluator.evaluate([cam(500)], [])).toEqual([]); // at the threshold is not above it
    clock.advance(3000);
    expect(evaluator.evaluate([cam(500)], [])).toEqual([]);
    evaluator.evaluate([cam(501)], []);
    clock.advance(2000);
    expect(evaluator.evaluate([cam(800)], [])).toMatchObject([{ state: 'firing', value: 800, threshold: 500 }]);
    clock.advance(1000);
    // Down: no latency measured, so the alert neither resolves nor fires again.
    expect(evaluator.evaluate([cam(0, 'backoff')], [])).toEqual([]);
    expect(evaluator.firing()).toHaveLength(1);
    clock.advance(1000);
    expect(evaluator.evaluate([cam(120)], [])).toMatchObject([{ state: 'resolved', value: 120 }]);
    // An ingest too old to report latency is not an alert.
    expect(evaluator.evaluate([at(clock, { cameraId: 'old' })], [])).toEqual([]);
  });

  it('zone-occupancy: above N per zone, zone filter, unread occupancy keeps the alert, withheld counts are below', () => {
    const { clock, evaluator } = setup([
      { type: 'zone-occupancy', name: 'full', zone: 'till', above: 3, forSeconds: 0 },
    ]);
    const statuses = [at(clock, { cameraId: 'shop', name: 'Shop floor' })];
    const zones = (till: number | null, door = 50): ZoneReading[] => [
      { cameraId: 'shop', name: 'till', inside: till },
      { cameraId: 'shop', name: 'door', inside: door },
    ];
    expect(evaluator.evaluate(statuses, zones(3))).toEqual([]);
    expect(evaluator.evaluate(statuses, zones(4))).toMatchObject([
      {
        rule: 'full',
        cameraId: 'shop',
        cameraName: 'Shop floor',
        zone: 'till',
        state: 'firing',
        value: 4,
        threshold: 3,
      },
    ]);
    expect(evaluator.evaluate(statuses, zones(9))).toEqual([]);
    expect(evaluator.evaluate(statuses, null)).toEqual([]);
    expect(evaluator.firing()).toMatchObject([{ zone: 'till', value: 9 }]);
    expect(evaluator.evaluate(statuses, zones(null))).toMatchObject([{ state: 'resolved', value: null }]);
  });

  it('deduplicates per rule and camera, filters cameras, and ends alerts of cameras no longer reported', () => {
    const { clock, evaluator } = setup([
      { type: 'camera-down', name: 'all', forSeconds: 0 },
      { type: 'camera-down', name: 'door-only', forSeconds: 0, cameras: ['door'] },
    ]);
    const down = (id: string) => at(clock, { cameraId: id, state: 'backoff' });
    const first = evaluator.evaluate([down('door'), down('yard')], []);
    expect(first.map((t) => `${t.rule}:${t.cameraId}`)).toEqual(['all:door', 'all:yard', 'door-only:door']);
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      expect(evaluator.evaluate([down('door'), down('yard')], [])).toEqual([]);
    }
    expect(evaluator.firing()).toHaveLength(3);
    expect(evaluator.evaluate([down('door')], [])).toMatchObject([
      { rule: 'all', cameraId: 'yard', state: 'resolved', value: null },
    ]);
    expect(evaluator.heldCount).toBe(2);
  });

  it('memory stays bounded: 2,000 flapping cameras leave nothing behind once healthy', () => {
    const { clock, evaluator } = setup([{ type: 'camera-down', name: 'down', forSeconds: 1 }]);
    const ids = Array.from({ length: 2000 }, (_, i) => `cam-${i}`);
    const down = ids.map((id) => cameraStatus({ cameraId: id, state: 'backoff' }));
    const up = ids.map((id) => cameraStatus({ cameraId: id, state: 'streaming' }));
    for (let round = 0; round < 3; round++) {
      evaluator.evaluate(down, []);
      clock.advance(1000);
      expect(evaluator.evaluate(down, [])).toHaveLength(2000);
      clock.advance(1000);
      expect(evaluator.evaluate(up, [])).toHaveLength(2000);
      expect(evaluator.heldCount).toBe(0);
    }
  });
});
