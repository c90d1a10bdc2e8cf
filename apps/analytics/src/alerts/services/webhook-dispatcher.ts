import { redactUrl, type WebhookConfig } from '@crowdlens/config';
import { ExponentialBackoff } from '@crowdlens/runtime';
import type { Logger } from 'pino';
import { signWebhookBody, SIGNATURE_HEADER } from '../adapters/webhook-signature';
import type { WebhookTransport } from '../adapters/webhook-transport.port';
import type { AlertPayload } from './alert-payload';

export interface WebhookDeliveryMetrics {
  delivered(webhook: string): void;
  /** One attempt failed (it may still be retried). */
  failed(webhook: string): void;
  /** A message given up: the queue was full, its attempts ran out, or the process stopped. */
  dropped(webhook: string, reason: 'queue-full' | 'attempts-exhausted' | 'shutdown'): void;
}

interface Pending {
  readonly payload: AlertPayload;
  readonly body: string;
  /** Its row in the alert outbox; null when writing it there failed (then it lives here only). */
  readonly seq: number | null;
  attempts: number;
}

/**
 * One webhook's outbox: messages go out one at a time, in order (a resolved
 * never overtakes its firing), each retried with the project's backoff until
 * it is accepted or its attempts run out. The queue is bounded; the oldest
 * waiting message is dropped, with a log line, when it is full. Nothing here
 * ever blocks the caller: `enqueue` returns at once. A message that is done
 * with (delivered or given up) is reported to `settled`, which takes it out
 * of the alert outbox; one left at shutdown stays there for the next sender.
 */
export class WebhookDispatcher {
  private readonly queue: Pending[] = [];
  private readonly backoff: ExponentialBackoff;
  private readonly target: string;
  private running = false;
  private closed = false;
  private wait: { timer: NodeJS.Timeout; wake: () => void } | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly webhook: WebhookConfig,
    private readonly transport: WebhookTransport,
    private readonly logger: Logger,
    private readonly metrics: WebhookDeliveryMetrics,
    private readonly maxPending: number,
    private readonly settled: (seq: number) => void = () => undefined,
    random: () => number = Math.random,
  ) {
    this.backoff = new ExponentialBackoff({ ...webhook.backoff, factor: 2, jitter: 0.2 }, random);
    this.target = redactUrl(webhook.url);
  }

  get pending(): number {
    return this.queue.length;
  }

  enqueue(payload: AlertPayload, seq: number | null = null): void {
    if (this.closed) return;
    // Picking up the outbox after a failed read can meet a message this process queued itself.
    if (seq !== null && this.queue.some((p) => p.seq === seq)) return;
    if (this.queue.length >= this.maxPending) {
      // The head may be on the wire: drop the oldest one still waiting, or this one if none is.
      const victimAt = this.running ? 1 : 0;
      const victim = this.queue[victimAt];
      if (victim) this.queue.splice(victimAt, 1);
      const lost = victim?.payload ?? payload;
      this.logger.error(
        {
          webhook: this.webhook.name,
          url: this.target,
          rule: lost.rule,
          camera: lost.camera.id,
          state: lost.state,
          pending: this.maxPending,
        },
        'alert webhook queue full (alerts.maxPendingDeliveries): oldest waiting message dropped',
      );
      this.metrics.dropped(this.webhook.name, 'queue-full');
      this.settle(victim?.seq ?? seq);
      if (!victim) return;
    }
    this.queue.push({ payload, body: JSON.stringify(payload), seq, attempts: 0 });
    if (!this.running) void this.pump();
  }

  /** Resolves once nothing is pending (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * Stops retrying. What is still pending stays in the outbox for the next process that sends;
   * only messages that never made it there are counted and logged as lost.
   */
  close(): void {
    this.closed = true;
    const waiting = this.takeWaiting();
    const kept = waiting.filter((p) => p.seq !== null).length;
    const lost = waiting.length - kept;
    if (kept > 0)
      this.logger.warn(
        { webhook: this.webhook.name, url: this.target, pending: kept },
        'alert webhook messages not delivered before shutdown: kept in the outbox for the next sender',
      );
    if (lost > 0) {
      this.logger.warn(
        { webhook: this.webhook.name, url: this.target, pending: lost },
        'alert webhook messages not delivered before shutdown, and not in the outbox: lost',
      );
      for (let i = 0; i < lost; i++) this.metrics.dropped(this.webhook.name, 'shutdown');
    }
  }

  /**
   * This process stopped being the sender: what waits is left to the new one, which reads it from
   * the outbox. Returns how many were handed over. The dispatcher stays usable.
   */
  abandon(): number {
    const waiting = this.takeWaiting();
    if (waiting.length > 0)
      this.logger.info(
        { webhook: this.webhook.name, pending: waiting.length },
        'alert webhook messages left to the replica that sends now',
      );
    return waiting.length;
  }

  /**
   * Takes the waiting messages, a head waiting out its backoff included, and ends that wait; the one
   * on the wire, if any, still gets its answer.
   */
  private takeWaiting(): Pending[] {
    const onWire = this.running && this.wait === null;
    const waiting = this.queue.splice(onWire ? 1 : 0);
    if (this.wait) {
      clearTimeout(this.wait.timer);
      this.wait.wake();
    }
    return waiting;
  }

  private settle(seq: number | null): void {
    if (seq !== null) this.settled(seq);
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const head = this.queue[0] as Pending;
        head.attempts++;
        try {
          await this.transport.post({
            url: this.webhook.url,
            body: head.body,
            timeoutMs: this.webhook.timeoutMs,
            headers: {
              'content-type': 'application/json',
              'user-agent': 'CrowdLens-Alerts/1',
              [SIGNATURE_HEADER]: signWebhookBody(this.webhook.secret, head.body),
              'X-CrowdLens-Delivery': head.payload.id,
              'X-CrowdLens-Alert-State': head.payload.state,
            },
          });
          if (this.queue[0] === head) this.queue.shift();
          this.backoff.reset();
          this.settle(head.seq);
          this.metrics.delivered(this.webhook.name);
          this.logger.info(
            {
              webhook: this.webhook.name,
              rule: head.payload.rule,
              camera: head.payload.camera.id,
              state: head.payload.state,
              attempts: head.attempts,
            },
            'alert delivered',
          );
        } catch (err) {
          this.metrics.failed(this.webhook.name);
          const reason = (err as Error).message;
          if (head.attempts >= this.webhook.maxAttempts) {
            if (this.queue[0] === head) this.queue.shift();
            this.backoff.reset();
            this.settle(head.seq);
            this.metrics.dropped(this.webhook.name, 'attempts-exhausted');
            this.logger.error(
              {
                webhook: this.webhook.name,
                url: this.target,
                rule: head.payload.rule,
                camera: head.payload.camera.id,
                state: head.payload.state,
                attempts: head.attempts,
                reason,
              },
              'alert not delivered: every attempt failed (webhooks[].maxAttempts)',
            );
            continue;
          }
          // Closed while this attempt was on the wire: no retry here, the message stays in the outbox.
          if (this.closed) continue;
          const delayMs = this.backoff.next();
          this.logger.warn(
            { webhook: this.webhook.name, url: this.target, attempt: head.attempts, retryInMs: delayMs, reason },
            'alert webhook attempt failed; retrying',
          );
          await this.sleep(delayMs);
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.wait = null;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.wait = { timer, wake };
    });
  }
}
