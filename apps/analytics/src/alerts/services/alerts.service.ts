import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, registerSecret, redactText, type AppConfig } from '@crowdlens/config';
import { CLOCK, LOGGER } from '@crowdlens/common';
import type { Clock } from '@crowdlens/runtime';
import type { Logger } from 'pino';
import { CameraRegistry } from '../../services/camera-registry.service';
import { LineZoneStatsService } from '../../services/line-zone-stats.service';
import { ALERT_LEADERSHIP, type AlertLeadership } from '../adapters/alert-leadership.port';
import { ALERT_OUTBOX, type AlertOutbox } from '../adapters/alert-outbox.port';
import { WEBHOOK_TRANSPORT, type WebhookTransport } from '../adapters/webhook-transport.port';
import { AlertEvaluator, type FiringAlert, type ZoneReading } from './alert-evaluator';
import { AlertMetrics } from './alert-metrics';
import { alertPayload, type AlertPayload } from './alert-payload';
import { WebhookDispatcher } from './webhook-dispatcher';

/** Zone occupancy feeds crowdlens_zone_occupancy this often even when no rule watches a zone. */
const OCCUPANCY_GAUGE_INTERVAL_MS = 5000;
/** At shutdown, messages already queued get this long to go out. */
const SHUTDOWN_FLUSH_MS = 2000;
/** Then the attempt already on the wire gets this long for its answer. */
const IN_FLIGHT_GRACE_MS = 1000;

/**
 * Runs the alert rules in analytics: on a timer, over the camera statuses the
 * registry holds (the camera-status topic, in both modes) and the zones'
 * occupancy, and hands what fires or resolves to one outbox per webhook.
 * Evaluation is in memory and delivery is in the background: the pipeline
 * never waits on a receiver. Every analytics replica evaluates; only the one
 * holding the alert leadership sends (AlertLeadership), so N replicas send
 * one copy, and a standby that takes over knows what is already firing.
 * Each message is written to the outbox in the store before it is queued
 * (AlertOutbox): a process that becomes the sender, after a failover or a
 * restart, first sends what the previous one left.
 */
@Injectable()
export class AlertsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly evaluator: AlertEvaluator;
  private readonly dispatchers: Map<string, WebhookDispatcher>;
  /** Whether this process sent at the last evaluation: a change picks up or hands over the outbox. */
  private sending = false;
  private readonly watchesZones: boolean;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private lastZoneReadMono = Number.NEGATIVE_INFINITY;
  private zoneReadFailing = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
    @Inject(WEBHOOK_TRANSPORT) transport: WebhookTransport,
    private readonly cameras: CameraRegistry,
    private readonly lineZones: LineZoneStatsService,
    private readonly metrics: AlertMetrics,
    @Inject(ALERT_LEADERSHIP) private readonly leadership: AlertLeadership,
    @Inject(ALERT_OUTBOX) private readonly outbox: AlertOutbox,
  ) {
    this.logger = logger.child({ component: 'alerts' });
    const { alerts } = config;
    // parseConfig alone (tests, tools) registers nothing: the secrets are known here at the latest.
    for (const w of alerts.webhooks) registerSecret(w.secret);
    this.evaluator = new AlertEvaluator(alerts.rules, { statusStaleMs: alerts.statusStaleSeconds * 1000 }, clock);
    this.dispatchers = new Map(
      alerts.webhooks.map((w) => [
        w.name,
        new WebhookDispatcher(w, transport, this.logger, metrics, alerts.maxPendingDeliveries, (seq) => {
          this.outbox
            .remove(seq)
            .catch((err: unknown) =>
              this.logger.warn(
                { err: redactText(String(err)), webhook: w.name },
                'alert outbox: a settled message could not be removed; the next sender sends it again',
              ),
            );
        }),
      ]),
    );
    this.watchesZones = alerts.rules.some((r) => r.type === 'zone-occupancy');
  }

  private readonly logger: Logger;

  async onApplicationBootstrap(): Promise<void> {
    const { alerts } = this.config;
    this.metrics.firing([], alerts.rules);
    // Only with something to send: a replica without rules or webhooks must not take the lock.
    if (alerts.rules.length > 0 && alerts.webhooks.length > 0) await this.leadership.start();
    this.timer = setInterval(() => void this.evaluate(), alerts.evaluateIntervalMs);
    this.timer.unref();
    if (alerts.rules.length > 0)
      this.logger.info(
        { rules: alerts.rules.map((r) => r.name), webhooks: alerts.webhooks.map((w) => w.name) },
        'alert rules active',
      );
  }

  /** One evaluation; public for tests. Overlapping calls are skipped (a slow occupancy read). */
  async evaluate(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const zones = await this.readZones();
      const transitions = this.evaluator.evaluate(this.cameras.list(), zones);
      const sends = this.leadership.isLeader();
      this.metrics.leader(sends);
      if (sends !== this.sending) await this.handOver(sends);
      for (const t of transitions) {
        const payload = alertPayload(t);
        this.logger[t.state === 'firing' ? 'warn' : 'info'](
          { rule: t.rule, type: t.type, camera: t.cameraId, zone: t.zone, value: t.value, threshold: t.threshold },
          t.state === 'firing' ? 'alert firing' : 'alert resolved',
        );
        if (sends) for (const [name, d] of this.dispatchers) d.enqueue(payload, await this.keep(name, payload));
      }
      if (transitions.length > 0) this.metrics.firing(this.evaluator.firing(), this.config.alerts.rules);
      for (const [name, d] of this.dispatchers) this.metrics.pending(name, d.pending);
    } catch (err) {
      this.logger.error({ err: redactText(String(err)) }, 'alert evaluation failed');
    } finally {
      this.busy = false;
    }
  }

  firing(): FiringAlert[] {
    return this.evaluator.firing();
  }

  /**
   * Became the sender: queue what the outbox holds (the previous sender's leftovers) before
   * anything new. Stopped being it: leave what waits to the new one. A failed read is tried
   * again at the next evaluation.
   */
  private async handOver(sends: boolean): Promise<void> {
    if (!sends) {
      this.sending = false;
      for (const d of this.dispatchers.values()) d.abandon();
      return;
    }
    if (this.dispatchers.size === 0) {
      this.sending = true;
      return;
    }
    try {
      const left = await this.outbox.pending();
      this.sending = true;
      for (const m of left) {
        const d = this.dispatchers.get(m.webhook);
        if (d) d.enqueue(m.payload, m.seq);
        else {
          this.logger.warn(
            { webhook: m.webhook, rule: m.payload.rule, state: m.payload.state },
            'alert outbox: message for a webhook no longer configured, dropped',
          );
          await this.outbox.remove(m.seq);
        }
      }
      if (left.length > 0) this.logger.info({ messages: left.length }, 'alert outbox: sending what was left');
    } catch (err) {
      this.logger.error({ err: redactText(String(err)) }, 'alert outbox not readable; trying again');
    }
  }

  /** The message's outbox row, or null when the store cannot take it (then it is sent from memory only). */
  private async keep(webhook: string, payload: AlertPayload): Promise<number | null> {
    try {
      return await this.outbox.add(webhook, payload);
    } catch (err) {
      this.logger.warn(
        { err: redactText(String(err)), webhook, rule: payload.rule },
        'alert outbox not writable: this message is sent from memory only',
      );
      return null;
    }
  }

  /** Occupancy when a rule needs it (every evaluation) or the gauge is due; null when it could not be read. */
  private async readZones(): Promise<ZoneReading[] | null> {
    const now = this.clock.monotonicMs();
    if (!this.watchesZones && now - this.lastZoneReadMono < OCCUPANCY_GAUGE_INTERVAL_MS) return [];
    this.lastZoneReadMono = now;
    try {
      const { zones } = await this.lineZones.occupancy({ cameraIds: [], groups: [] });
      const readings = zones.map((z) => ({ cameraId: z.cameraId, name: z.name, inside: z.inside }));
      this.metrics.zones(readings);
      if (this.zoneReadFailing) this.logger.info('zone occupancy readable again');
      this.zoneReadFailing = false;
      return this.watchesZones ? readings : [];
    } catch (err) {
      if (!this.zoneReadFailing)
        this.logger.warn({ err: redactText(String(err)) }, 'zone occupancy not readable: zone alerts wait');
      this.zoneReadFailing = true;
      return this.watchesZones ? null : [];
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.dispatchersIdle(SHUTDOWN_FLUSH_MS);
    for (const d of this.dispatchers.values()) d.close();
    // A message on the wire gets its answer while the store is still open to settle it: else it is
    // both delivered and left in the outbox, and the next sender sends it again.
    await this.dispatchersIdle(IN_FLIGHT_GRACE_MS);
    await this.leadership.close();
  }

  private async dispatchersIdle(withinMs: number): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.dispatchers.values()].map((d) => d.idle())),
      new Promise<void>((r) => {
        timeout = setTimeout(r, withinMs);
      }),
    ]);
    clearTimeout(timeout);
  }
}
