import { hostname } from 'node:os';
import { Global, Module, type DynamicModule, type OnApplicationShutdown, Inject } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import { MESSAGE_BUS, type MessageBus } from '@crowdlens/bus';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { createMessageBus } from './message-bus.factory';
import { createLogger, SYSTEM_CLOCK, type Clock } from '@crowdlens/runtime';
import { CLOCK, LOGGER, METRICS } from './tokens';
import { MetricsController } from './metrics.controller';
import { HealthController } from './health.controller';
import { BusMetrics } from './bus-metrics';
import { APP_GUARD } from '@nestjs/core';
import { ApiGuard, AUTHENTICATOR, RATE_LIMITER } from '../auth/api.guard';
import { Authenticator } from '../auth/authenticator';
import { AuthController } from '../auth/auth.controller';
import { RateLimiter } from '../auth/rate-limiter';
import { OpenApiController } from '../openapi/openapi.controller';
import '../openapi/core-routes';

/** Runs after every service's beforeApplicationShutdown has drained its work onto the bus. */
class BusCloser implements OnApplicationShutdown {
  constructor(@Inject(MESSAGE_BUS) private readonly bus: MessageBus) {}
  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
}

/**
 * What every app needs, whatever its role: the validated config, the logger,
 * the bus chosen by config, a Prometheus registry, /metrics, /health, /ready.
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig, logger: Logger = createLogger(config.logLevel)): DynamicModule {
    const metrics = new Registry();
    const authenticator = new Authenticator(config.auth);
    if (!authenticator.enabled) {
      logger.warn(
        'authentication is OFF: no users or API keys configured (fine for the local demo, never in production)',
      );
    }
    collectDefaultMetrics({ register: metrics, prefix: 'crowdlens_' });
    return {
      module: CoreModule,
      controllers: [MetricsController, HealthController, AuthController, OpenApiController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: METRICS, useValue: metrics },
        { provide: CLOCK, useValue: SYSTEM_CLOCK satisfies Clock },
        {
          provide: MESSAGE_BUS,
          useFactory: () =>
            createMessageBus(config.bus, logger, { role: config.role, host: hostname(), pid: process.pid }),
        },
        { provide: AUTHENTICATOR, useValue: authenticator },
        { provide: RATE_LIMITER, useValue: new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst) },
        { provide: APP_GUARD, useClass: ApiGuard },
        BusCloser,
        BusMetrics,
      ],
      exports: [APP_CONFIG, LOGGER, METRICS, CLOCK, MESSAGE_BUS, AUTHENTICATOR],
    };
  }
}
