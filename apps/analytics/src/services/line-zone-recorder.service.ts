import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { MESSAGE_BUS, type MessageBus, type Subscription } from '@crowdlens/bus';
import { LINE_ZONE_EVENTS_TOPIC, type LineZoneEvent } from '@crowdlens/contracts';
import { LINE_ZONE_STORE, classifyStoreError, type LineZoneRecord, type LineZoneStore } from '@crowdlens/storage';
import { LOGGER, METRICS, Readiness } from '@crowdlens/common';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { RECORDER_CONCURRENCY, StoreBatchWriter } from './store-batch-writer';

/** A group of its own: line and zone events are a stream apart, with their own offsets. */
export const LINE_ZONE_EVENTS_GROUP = 'crowdlens-analytics-line-zones';

/**
 * Line crossings and zone entries/exits in -> the store, with the same
 * discipline as predictions and track events: batched, acknowledged after
 * commit, retried while the store is down, dead-lettered when the store
 * refuses one for good, each event kept once.
 */
@Injectable()
export class LineZoneRecorder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private subscription: Subscription | null = null;
  private readonly writer: StoreBatchWriter<LineZoneRecord>;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(LINE_ZONE_STORE) store: LineZoneStore,
    @Inject(LOGGER) logger: Logger,
    @Inject(METRICS) registry: Registry,
  ) {
    this.writer = new StoreBatchWriter<LineZoneRecord>({
      what: 'line and zone events',
      apply: async (records) => ({ ...(await store.apply(records)), late: 0 }),
      classify: classifyStoreError,
      describe: (r) => `${r.kind} ${JSON.stringify(`${r.cameraId}/${r.trackId}/${r.name}@${r.ts}`)}`,
      logger,
      applied: new Counter({
        name: 'crowdlens_analytics_line_zone_events_applied_total',
        help: 'Line crossings and zone entries/exits stored',
        registers: [registry],
      }),
      duplicates: new Counter({
        name: 'crowdlens_analytics_line_zone_events_duplicate_total',
        help: 'Redelivered line and zone events recognised and ignored',
        registers: [registry],
      }),
      failures: new Counter({
        name: 'crowdlens_analytics_line_zone_events_store_failures_total',
        help: 'Failed attempts to store a batch of line and zone events (store unavailable; each is retried)',
        registers: [registry],
      }),
      rejected: new Counter({
        name: 'crowdlens_analytics_line_zone_events_rejected_total',
        help: 'Line and zone events the store refused for good, dead-lettered',
        registers: [registry],
      }),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      LINE_ZONE_EVENTS_TOPIC,
      { group: LINE_ZONE_EVENTS_GROUP, concurrency: RECORDER_CONCURRENCY },
      (e) => this.record(e),
    );
    Readiness.register('analytics-line-zones', () => this.subscription !== null && !this.writer.failing);
  }

  record(e: LineZoneEvent): Promise<void> {
    return this.writer.add(toLineZoneRecord(e));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.writer.stop(async () => {
      await this.subscription?.close();
    });
  }
}

export function toLineZoneRecord(e: LineZoneEvent): LineZoneRecord {
  const common = { cameraId: e.cameraId, trackId: e.trackId, name: e.name, ts: e.ts };
  switch (e.kind) {
    case 'line-crossed':
      return { kind: e.kind, eventId: e.eventId, direction: e.direction, ...common };
    case 'zone-entered':
      return { kind: e.kind, ...common };
    case 'zone-exited':
      return { kind: e.kind, enteredTs: e.enteredTs, ...common };
  }
}
