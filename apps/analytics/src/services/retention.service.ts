import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import {
  AGGREGATE_STORE,
  LINE_ZONE_STORE,
  type AggregateStore,
  type LineZoneStore,
  type RetentionResult,
} from '@crowdlens/storage';
import { CLOCK, LOGGER } from '@crowdlens/common';
import type { Clock } from '@crowdlens/runtime';
import type { Logger } from 'pino';

const EVERY_MS = 3_600_000;

/**
 * Expires minute buckets and per-track records after the configured days; hour/day rollups are kept.
 * Crossings and zone visits are folded into hourly rollups first, while the per-track records they
 * take their gender from are still there; if that fails, the per-track records wait for the next run.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(AGGREGATE_STORE) private readonly store: AggregateStore,
    @Inject(LINE_ZONE_STORE) private readonly lineZones: LineZoneStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const { bus, analytics } = this.config;
    const keptMs = analytics.minuteRetentionDays * 86_400_000;
    if (bus.type === 'kafka' && keptMs < bus.retentionMs) {
      // Idempotency ids and raw crossings go at this age; the broker can still hand the events over again.
      this.logger.warn(
        { minuteRetentionDays: analytics.minuteRetentionDays, busRetentionDays: bus.retentionMs / 86_400_000 },
        'analytics.minuteRetentionDays is shorter than bus.retentionMs: an event redelivered or replayed after ' +
          'its records expired would be counted twice; keep the records at least as long as the broker keeps events',
      );
    }
    void this.run();
    this.timer = setInterval(() => void this.run(), EVERY_MS);
    this.timer.unref();
  }

  async run(): Promise<RetentionResult | null> {
    const before = this.clock.now() - this.config.analytics.minuteRetentionDays * 86_400_000;
    const folded = await this.expire('line and zone retention', before, () => this.lineZones.applyRetention(before));
    if (!folded) return null;
    return this.expire('retention', before, () => this.store.applyRetention(before));
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async expire<R extends object>(what: string, before: number, apply: () => Promise<R>): Promise<R | null> {
    try {
      const result: R = await apply();
      const counts: Record<string, unknown> = Object.fromEntries(Object.entries(result));
      if (Object.values(counts).some((n) => typeof n === 'number' && n > 0)) {
        this.logger.info({ before: new Date(before).toISOString(), ...counts }, `${what} applied`);
      }
      return result;
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, `${what} failed; will retry next hour`);
      return null;
    }
  }
}
