import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import { AGGREGATE_STORE, type AggregateStore, type RetentionResult } from '@crowdlens/storage';
import { CLOCK, LOGGER, type Clock } from '@crowdlens/common';
import type { Logger } from 'pino';

const EVERY_MS = 3_600_000;

/** Expires minute buckets and per-track records after the configured days; hour/day rollups are kept. */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(AGGREGATE_STORE) private readonly store: AggregateStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    void this.run();
    this.timer = setInterval(() => void this.run(), EVERY_MS);
    this.timer.unref();
  }

  async run(): Promise<RetentionResult | null> {
    const before = this.clock.now() - this.config.analytics.minuteRetentionDays * 86_400_000;
    try {
      const result = await this.store.applyRetention(before);
      if (result.minuteBuckets + result.tracks + result.predictionIds + result.trackEventIds > 0) {
        this.logger.info({ before: new Date(before).toISOString(), ...result }, 'retention applied');
      }
      return result;
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'retention failed; will retry next hour');
      return null;
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
