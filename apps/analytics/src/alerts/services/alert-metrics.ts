import { Inject, Injectable } from '@nestjs/common';
import { METRICS } from '@crowdlens/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { FiringAlert, ZoneReading } from './alert-evaluator';
import type { WebhookDeliveryMetrics } from './webhook-dispatcher';

/** Alerts firing, webhook traffic, and zone occupancy (which deploy/prometheus/alerts.yml alerts on too). */
@Injectable()
export class AlertMetrics implements WebhookDeliveryMetrics {
  private readonly firingGauge: Gauge;
  private readonly deliveries: Counter;
  private readonly failures: Counter;
  private readonly drops: Counter;
  private readonly pendingGauge: Gauge;
  private readonly occupancy: Gauge;
  private readonly leaderGauge: Gauge;
  private readonly zoneLabels = new Set<string>();

  constructor(@Inject(METRICS) registry: Registry) {
    this.firingGauge = new Gauge({
      name: 'crowdlens_alerts_firing',
      help: 'Alerts firing now, per rule',
      labelNames: ['rule', 'type'],
      registers: [registry],
    });
    this.deliveries = new Counter({
      name: 'crowdlens_alert_webhook_deliveries_total',
      help: 'Alert messages a webhook receiver accepted (2xx)',
      labelNames: ['webhook'],
      registers: [registry],
    });
    this.failures = new Counter({
      name: 'crowdlens_alert_webhook_failures_total',
      help: 'Webhook attempts that failed (network error, timeout, non-2xx); each may be retried',
      labelNames: ['webhook'],
      registers: [registry],
    });
    this.drops = new Counter({
      name: 'crowdlens_alert_webhook_dropped_total',
      help: 'Alert messages given up: queue full, attempts exhausted, or shutdown',
      labelNames: ['webhook', 'reason'],
      registers: [registry],
    });
    this.pendingGauge = new Gauge({
      name: 'crowdlens_alert_webhook_pending',
      help: 'Alert messages waiting for a webhook (retries included)',
      labelNames: ['webhook'],
      registers: [registry],
    });
    this.leaderGauge = new Gauge({
      name: 'crowdlens_alerts_leader',
      help: '1 on the analytics replica that sends the alerts (holds the alert leadership), 0 on standbys',
      registers: [registry],
    });
    this.occupancy = new Gauge({
      name: 'crowdlens_zone_occupancy',
      help: 'People inside a zone now; absent while 1 to k - 1 (k-anonymity)',
      labelNames: ['camera', 'zone'],
      registers: [registry],
    });
  }

  delivered(webhook: string): void {
    this.deliveries.inc({ webhook });
  }

  failed(webhook: string): void {
    this.failures.inc({ webhook });
  }

  dropped(webhook: string, reason: 'queue-full' | 'attempts-exhausted' | 'shutdown'): void {
    this.drops.inc({ webhook, reason });
  }

  leader(sends: boolean): void {
    this.leaderGauge.set(sends ? 1 : 0);
  }

  pending(webhook: string, n: number): void {
    this.pendingGauge.set({ webhook }, n);
  }

  firing(alerts: readonly FiringAlert[], rules: readonly { name: string; type: string }[]): void {
    const counts = new Map<string, number>();
    for (const a of alerts) counts.set(a.rule, (counts.get(a.rule) ?? 0) + 1);
    for (const r of rules) this.firingGauge.set({ rule: r.name, type: r.type }, counts.get(r.name) ?? 0);
  }

  zones(readings: readonly ZoneReading[]): void {
    const now = new Set<string>();
    for (const z of readings) {
      const key = JSON.stringify([z.cameraId, z.name]);
      if (z.inside === null) continue;
      now.add(key);
      this.occupancy.set({ camera: z.cameraId, zone: z.name }, z.inside);
    }
    // A withheld or removed zone's series goes away rather than freeze at its last value.
    for (const key of this.zoneLabels)
      if (!now.has(key)) {
        const [camera = '', zone = ''] = JSON.parse(key) as string[];
        this.occupancy.remove({ camera, zone });
      }
    this.zoneLabels.clear();
    for (const key of now) this.zoneLabels.add(key);
  }
}
