import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { AppConfig } from '@crowdlens/config';
import type { AddressInfo } from 'node:net';
import {
  describeListenAddress,
  exposureWarning,
  hardenHttp,
  PinoNestLogger,
  Readiness,
  type ListenAddress,
} from '@crowdlens/common';
import { createLogger } from '@crowdlens/runtime';
import type { Logger } from 'pino';
import { CrowdLensModule } from './crowdlens.module';

export interface RunningApp {
  readonly app: INestApplication;
  /** A URL that reaches the server from this machine. */
  readonly url: string;
  readonly listen: ListenAddress;
  /** The start-up warning about an API without auth on a network interface, if any. */
  readonly warning: string | null;
  readonly logger: Logger;
  close(): Promise<void>;
}

/** Builds and starts one CrowdLens process for the config's role; used by main and by tests. */
export async function startCrowdLens(
  config: AppConfig,
  logger: Logger = createLogger(config.logLevel),
): Promise<RunningApp> {
  Readiness.reset();
  const app = await NestFactory.create(CrowdLensModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger, { callerReportsBootErrors: true }),
    abortOnError: false,
  });
  app.enableShutdownHooks();
  hardenHttp(app);
  await app.listen(config.http.port, config.http.host);
  // What the socket bound, not what was asked for: 0.0.0.0 is every interface, and port 0 is any port.
  const listen = describeListenAddress(app.getHttpServer().address() as AddressInfo);
  const warning = exposureWarning(listen, config.auth);
  if (warning) logger.warn({ role: config.role, listening: listen.bound }, warning);
  // Only ingest reads cameras; naming them in another role's start line suggests it does too.
  const cameras =
    config.role === 'ingest' || config.role === 'embedded' ? { cameras: config.cameras.map((c) => c.id) } : {};
  logger.info({ role: config.role, listening: listen.bound, url: listen.url, ...cameras }, 'CrowdLens started');
  return { app, url: listen.url, listen, warning, logger, close: () => app.close() };
}
