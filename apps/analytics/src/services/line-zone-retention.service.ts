import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import { LINE_ZONE_STORE, type LineZoneStore } from '@crowdlens/storage';
import { CLOCK, LOGGER, type Clock } from '@crowdlens/common';
import type { Logger } from 'pino';

const EVERY_MS = 3_600_000;

/**
 * Crossings and zone visits are kept as long as the per-track records they take their gender
 * from (analytics.minuteRetentionDays): past that, a crossing's person is gone from the store.
 */
@Injectable()
export class LineZoneRetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LINE_ZONE_STORE) private readonly store: LineZoneStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    void this.run();
    this.timer = setInterval(() => void this.run(), EVERY_MS);
    this.timer.unref();
  }

  async run(): Promise<void> {
    const before = this.clock.now() - this.config.analytics.minuteRetentionDays * 86_400_000;
    try {
      const result = await this.store.applyRetention(before);
      if (result.crossings + result.visits > 0)
        this.logger.info({ before: new Date(before).toISOString(), ...result }, 'line and zone retention applied');
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'line and zone retention failed; will retry next hour');
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
