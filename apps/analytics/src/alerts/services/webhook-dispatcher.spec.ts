import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { parseConfig } from '@crowdlens/config';
import { verifyWebhookSignature } from '../adapters/webhook-signature';
import { WebhookDeliveryError, type WebhookRequest, type WebhookTransport } from '../adapters/webhook-transport.port';
import { alertPayload, type AlertPayload } from './alert-payload';
import { WebhookDispatcher, type WebhookDeliveryMetrics } from './webhook-dispatcher';

const SECRET = 'dispatcher-secret-1234567890';

function webhook(over: Record<string, unknown> = {}) {
  return parseConfig({
    alerts: {
      webhooks: [
        {
          name: 'ops',
          url: 'https://user:pw@hooks.example.com/h?token=abc',
          secret: SECRET,
          backoff: { initialMs: 10, maxMs: 40 },
          ...over,
        },
      ],
    },
  }).alerts.webhooks[0]!;
}

function payload(cameraId: string, state: 'firing' | 'resolved' = 'firing'): AlertPayload {
  return alertPayload({
    rule: 'down',
    type: 'camera-down',
    cameraId,
    cameraName: cameraId,
    zone: null,
    threshold: null,
    forSeconds: 0,
    state,
    value: 'backoff',
    startedAt: 0,
    at: 1000,
  });
}

/** A receiver that fails the first `failures` attempts, then accepts; it can also be held (outage). */
class FakeReceiver implements WebhookTransport {
  readonly attempts: WebhookRequest[] = [];
  readonly accepted: AlertPayload[] = [];
  private release: (() => void) | null = null;
  held = false;
  constructor(public failures = 0) {}
  async post(req: WebhookRequest): Promise<void> {
    this.attempts.push(req);
    if (this.held) await new Promise<void>((r) => (this.release = r));
    if (this.failures > 0) {
      this.failures--;
      throw new WebhookDeliveryError('receiver answered HTTP 503', 503);
    }
    this.accepted.push(JSON.parse(req.body) as AlertPayload);
  }
  unhold(): void {
    this.held = false;
    this.release?.();
  }
}

function recorder() {
  const counts = { delivered: 0, failed: 0, dropped: [] as string[] };
  const metrics: WebhookDeliveryMetrics = {
    delivered: () => void counts.delivered++,
    failed: () => void counts.failed++,
    dropped: (_w, reason) => void counts.dropped.push(reason),
  };
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  return { counts, metrics, lines, logger };
}

describe('WebhookDispatcher', () => {
  it('retries a failing receiver with backoff and delivers once, signed, in order', async () => {
    const receiver = new FakeReceiver(3);
    const { counts, metrics, lines, logger } = recorder();
    const d = new WebhookDispatcher(webhook(), receiver, logger, metrics, 100, () => 0.5);
    d.enqueue(payload('door', 'firing'));
    d.enqueue(payload('door', 'resolved'));
    await d.idle();
    expect(receiver.accepted.map((p) => p.state)).toEqual(['firing', 'resolved']);
    expect(receiver.attempts).toHaveLength(5);
    expect(counts).toEqual({ delivered: 2, failed: 3, dropped: [] });
    for (const req of receiver.attempts) {
      expect(req.timeoutMs).toBe(5000);
      expect(verifyWebhookSignature(SECRET, req.body, req.headers['X-CrowdLens-Signature'])).toBe(true);
      expect(req.body).not.toContain(SECRET);
    }
    const retries = lines
      .map((l) => JSON.parse(l) as { msg: string; retryInMs?: number; url?: string })
      .filter((l) => l.msg.includes('retrying'));
    // The project's backoff: 10, 20, 40 ms (jitter centred), capped at maxMs.
    expect(retries.map((l) => l.retryInMs)).toEqual([10, 20, 40]);
    const log = lines.join('');
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain('pw@');
    expect(log).not.toContain('token=abc');
  });

  it('gives a message up after maxAttempts, says so, and goes on with the next', async () => {
    const receiver = new FakeReceiver(2);
    const { counts, metrics, lines, logger } = recorder();
    const d = new WebhookDispatcher(webhook({ maxAttempts: 2 }), receiver, logger, metrics, 100);
    d.enqueue(payload('a'));
    d.enqueue(payload('b'));
    await d.idle();
    expect(receiver.accepted.map((p) => p.camera.id)).toEqual(['b']);
    expect(counts.dropped).toEqual(['attempts-exhausted']);
    expect(lines.join('')).toContain('every attempt failed');
  });

  it('bounds the queue during an outage: drops the oldest waiting message with a log line, never the one on the wire', async () => {
    const receiver = new FakeReceiver();
    receiver.held = true;
    const { counts, metrics, lines, logger } = recorder();
    const d = new WebhookDispatcher(webhook(), receiver, logger, metrics, 3);
    for (const id of ['c0', 'c1', 'c2', 'c3', 'c4']) d.enqueue(payload(id));
    expect(d.pending).toBe(3);
    expect(counts.dropped).toEqual(['queue-full', 'queue-full']);
    expect(lines.filter((l) => l.includes('queue full'))).toHaveLength(2);
    receiver.unhold();
    await d.idle();
    expect(receiver.accepted.map((p) => p.camera.id)).toEqual(['c0', 'c3', 'c4']);
  });

  it('enqueue never waits for the receiver, and close() counts what was left', async () => {
    const receiver = new FakeReceiver();
    receiver.held = true;
    const { counts, metrics, logger } = recorder();
    const d = new WebhookDispatcher(webhook(), receiver, logger, metrics, 10);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) d.enqueue(payload(`c${i}`));
    expect(performance.now() - t0).toBeLessThan(1000);
    d.close();
    // The one on the wire gets its answer; the four waiting are lost and counted.
    expect(counts.dropped).toEqual(['shutdown', 'shutdown', 'shutdown', 'shutdown']);
    receiver.unhold();
    await d.idle();
    expect(d.pending).toBe(0);
    expect(receiver.accepted.map((p) => p.camera.id)).toEqual(['c0']);
  });
});
