import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { AppConfig } from '@crowdlens/config';
import { createLogger, PinoNestLogger, Readiness } from '@crowdlens/common';
import type { Logger } from 'pino';
import { CrowdLensModule } from './crowdlens.module';

export interface RunningApp {
  readonly app: INestApplication;
  readonly url: string;
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
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  app.enableShutdownHooks();
  await app.listen(config.http.port, config.http.host);
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  logger.info({ role: config.role, url, cameras: config.cameras.map((c) => c.id) }, 'CrowdLens started');
  return { app, url, logger, close: () => app.close() };
}
