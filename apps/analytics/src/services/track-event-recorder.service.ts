import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { MESSAGE_BUS, type MessageBus, type Subscription } from '@crowdlens/bus';
import { TRACK_EVENTS_TOPIC, type TrackEvent } from '@crowdlens/contracts';
import { AGGREGATE_STORE, classifyStoreError, type AggregateStore, type TrackEventRecord } from '@crowdlens/storage';
import { CLOCK, LOGGER, METRICS, Readiness } from '@crowdlens/common';
import type { Clock } from '@crowdlens/runtime';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { EventTimeBound } from './event-time-bound';
import { RECORDER_CONCURRENCY, StoreBatchWriter } from './store-batch-writer';

/** A group of its own: the track lifetimes are a stream apart from the predictions, with their own offsets. */
export const TRACK_EVENTS_GROUP = 'crowdlens-analytics-tracks';

/**
 * Track events in -> track lifetimes in the store: who was there (a visitor
 * even when no face was ever classified) and for how long (dwell). Same
 * discipline as the predictions: batched, acknowledged after commit, retried
 * while the store is down. Malformed events never get here: the bus validates
 * them against the contract and dead-letters them.
 */
@Injectable()
export class TrackEventRecorder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private subscription: Subscription | null = null;
  private readonly bound: EventTimeBound;
  private readonly writer: StoreBatchWriter<TrackEventRecord>;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(AGGREGATE_STORE) store: AggregateStore,
    @Inject(LOGGER) logger: Logger,
    @Inject(METRICS) registry: Registry,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(CLOCK) clock: Clock,
  ) {
    this.bound = new EventTimeBound(clock, config.analytics.maxClockAheadMs);
    this.writer = new StoreBatchWriter<TrackEventRecord>({
      what: 'track events',
      apply: (records) => store.applyTrackEvents(records),
      classify: classifyStoreError,
      describe: (r) => `track event ${JSON.stringify(r.eventId)}`,
      logger,
      applied: new Counter({
        name: 'crowdlens_analytics_track_events_applied_total',
        help: 'Track events (started, heartbeat, ended) merged into track lifetimes',
        registers: [registry],
      }),
      duplicates: new Counter({
        name: 'crowdlens_analytics_track_events_duplicate_total',
        help: 'Redelivered track events recognised and ignored',
        registers: [registry],
      }),
      failures: new Counter({
        name: 'crowdlens_analytics_track_events_store_failures_total',
        help: 'Failed attempts to store a batch of track events (store unavailable; each is retried)',
        registers: [registry],
      }),
      rejected: new Counter({
        name: 'crowdlens_analytics_track_events_rejected_total',
        help: 'Track events the store refused for good, dead-lettered',
        registers: [registry],
      }),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      TRACK_EVENTS_TOPIC,
      { group: TRACK_EVENTS_GROUP, concurrency: RECORDER_CONCURRENCY },
      (e) => this.record(e),
    );
    Readiness.register('analytics-tracks', () => this.subscription !== null && !this.writer.failing);
  }

  /** Rejects (the bus dead-letters) an event stamped too far in this process's future. */
  async record(e: TrackEvent): Promise<void> {
    this.bound.check(e.cameraId, 'lastSeenTs', e.lastSeenTs);
    return this.writer.add(toRecord(e));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.writer.stop(async () => {
      await this.subscription?.close();
    });
  }
}

/** The contract's event as the store keeps it: the kind only matters as "ended or not". */
export function toRecord(e: TrackEvent): TrackEventRecord {
  return {
    eventId: e.eventId,
    cameraId: e.cameraId,
    trackId: e.trackId,
    unit: e.unit,
    firstSeenTs: e.firstSeenTs,
    lastSeenTs: e.lastSeenTs,
    frames: e.frames,
    largestFacePx: e.largestFacePx,
    ended: e.kind === 'ended',
    endReason: e.endReason,
  };
}
