import { Inject, Injectable } from '@nestjs/common';
import { MESSAGE_BUS, type BusStats, type MessageBus } from '@crowdlens/bus';
import { Gauge, type Registry } from 'prom-client';
import { METRICS } from './tokens';

/** Exposes the bus's own counters (delivered, dropped, queued, dead-lettered) at scrape time. */
@Injectable()
export class BusMetrics {
  constructor(@Inject(MESSAGE_BUS) bus: MessageBus, @Inject(METRICS) registry: Registry) {
    const byGroup = (
      name: string,
      help: string,
      pick: (g: ReturnType<MessageBus['stats']>['groups'][number]) => number,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ['topic', 'group'],
        registers: [registry],
        collect() {
          this.reset();
          for (const g of bus.stats().groups) this.set({ topic: g.topic, group: g.group }, pick(g));
        },
      });
    byGroup('crowdlens_bus_delivered_total', 'Messages handled by a consumer group', (g) => g.delivered);
    byGroup('crowdlens_bus_dropped_total', 'Messages dropped because a consumer queue was full', (g) => g.dropped);
    byGroup('crowdlens_bus_failed_total', 'Messages a consumer rejected (dead-lettered)', (g) => g.failed);
    byGroup('crowdlens_bus_queued', 'Messages waiting for a consumer group', (g) => g.queued);
    const sendQueue = (name: string, help: string, pick: (q: NonNullable<BusStats['sendQueue']>) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          const q = bus.stats().sendQueue;
          if (q) this.set(pick(q));
        },
      });
    sendQueue('crowdlens_bus_send_queue_messages', 'Messages queued for the broker (Kafka)', (q) => q.queuedMessages);
    sendQueue('crowdlens_bus_send_queue_bytes', 'Bytes queued for the broker (Kafka)', (q) => q.queuedBytes);
    sendQueue('crowdlens_bus_send_waiting', 'Publishes waiting for room in the full send queue', (q) => q.waiting);
    sendQueue(
      'crowdlens_bus_send_waited_total',
      'Publishes that had to wait because the send queue was full (backpressure)',
      (q) => q.waitedTotal,
    );
    new Gauge({
      name: 'crowdlens_bus_published_total',
      help: 'Messages published per topic',
      labelNames: ['topic'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [topic, n] of Object.entries(bus.stats().published)) this.set({ topic }, n);
      },
    });
  }
}
