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
  attempts: number;
}

/**
 * One webhook's outbox: messages go out one at a time, in order (a resolved
 * never overtakes its firing), each retried with the project's backoff until
 * it is accepted or its attempts run out. The queue is bounded; the oldest
 * waiting message is dropped, with a log line, when it is full. Nothing here
 * ever blocks the caller: `enqueue` returns at once.
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
    random: () => number = Math.random,
  ) {
    this.backoff = new ExponentialBackoff({ ...webhook.backoff, factor: 2, jitter: 0.2 }, random);
    this.target = redactUrl(webhook.url);
  }

  get pending(): number {
    return this.queue.length;
  }

  enqueue(payload: AlertPayload): void {
    if (this.closed) return;
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
      if (!victim) return;
    }
    this.queue.push({ payload, body: JSON.stringify(payload), attempts: 0 });
    if (!this.running) void this.pump();
  }

  /** Resolves once nothing is pending (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops retrying; what is still pending is counted and logged as lost. */
  close(): void {
    this.closed = true;
    if (this.wait) {
      clearTimeout(this.wait.timer);
      this.wait.wake();
    }
    // The message on the wire, if any, still gets its answer (delivered or not); the rest are lost.
    const waiting = this.queue.splice(this.running ? 1 : 0);
    if (waiting.length > 0) {
      this.logger.warn(
        { webhook: this.webhook.name, url: this.target, pending: waiting.length },
        'alert webhook messages not delivered before shutdown',
      );
      for (let i = 0; i < waiting.length; i++) this.metrics.dropped(this.webhook.name, 'shutdown');
    }
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
