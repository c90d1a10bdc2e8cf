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
    const d = new WebhookDispatcher(webhook(), receiver, logger, metrics, 100, undefined, () => 0.5);
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

  it('reports each message it is done with (delivered, given up, pushed out of a full queue) to settled', async () => {
    const receiver = new FakeReceiver(2);
    const { metrics, logger } = recorder();
    const settled: number[] = [];
    const d = new WebhookDispatcher(webhook({ maxAttempts: 2 }), receiver, logger, metrics, 3, (seq) =>
      settled.push(seq),
    );
    receiver.held = true;
    d.enqueue(payload('given-up'), 1); // on the wire, then fails twice
    d.enqueue(payload('pushed-out'), 2);
    d.enqueue(payload('delivered'), 3);
    d.enqueue(payload('memory-only'), null); // the queue is full: the oldest waiting, 2, goes
    expect(settled).toEqual([2]);
    receiver.unhold();
    await d.idle();
    expect(receiver.accepted.map((p) => p.camera.id)).toEqual(['delivered', 'memory-only']);
    expect(settled).toEqual([2, 1, 3]);
  });

  it('queues an outbox message once, however often it is handed in', async () => {
    const receiver = new FakeReceiver();
    const { metrics, logger } = recorder();
    const d = new WebhookDispatcher(webhook(), receiver, logger, metrics, 10);
    receiver.held = true;
    d.enqueue(payload('a'), 7);
    d.enqueue(payload('b'), 8);
    d.enqueue(payload('a'), 7); // on the wire already
    d.enqueue(payload('b'), 8); // waiting already
    expect(d.pending).toBe(2);
    receiver.unhold();
    await d.idle();
    expect(receiver.accepted.map((p) => p.camera.id)).toEqual(['a', 'b']);
  });

  it('at shutdown leaves messages in the outbox and counts as lost only those that never got there', () => {
    const receiver = new FakeReceiver();
    receiver.held = true;
    const { counts, metrics, lines, logger } = recorder();
    const settled: number[] = [];
    const d = new WebhookDispatcher(webhook(), receiver, logger, metrics, 10, (seq) => settled.push(seq));
    d.enqueue(payload('wire'), 1);
    d.enqueue(payload('kept'), 2);
    d.enqueue(payload('kept-too'), 3);
    d.enqueue(payload('memory-only'), null);
    d.close();
    expect(counts.dropped).toEqual(['shutdown']);
    expect(settled).toEqual([]);
    expect(lines.join('')).toContain('kept in the outbox for the next sender');
    receiver.unhold();
  });

  it('hands its waiting messages to the new sender when it stops being it, a head in backoff included', async () => {
    const receiver = new FakeReceiver(1);
    const { counts, metrics, logger } = recorder();
    const settled: number[] = [];
    const d = new WebhookDispatcher(
      webhook({ backoff: { initialMs: 60_000, maxMs: 60_000 } }),
      receiver,
      logger,
      metrics,
      10,
      (seq) => settled.push(seq),
    );
    d.enqueue(payload('in-backoff'), 1);
    d.enqueue(payload('waiting'), 2);
    await until(() => receiver.attempts.length === 1 && counts.failed === 1);
    expect(d.abandon()).toBe(2);
    await d.idle();
    expect(d.pending).toBe(0);
    // Not delivered, not given up: the outbox still holds both, for the replica that sends now.
    expect(settled).toEqual([]);
    expect(counts.dropped).toEqual([]);
    expect(receiver.attempts).toHaveLength(1);
    // Still usable if it becomes the sender again.
    d.enqueue(payload('later'), 4);
    await d.idle();
    expect(receiver.accepted.map((p) => p.camera.id)).toEqual(['later']);
    expect(settled).toEqual([4]);
  });
});

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(done()).toBe(true);
}
