import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

export interface PinoNestLoggerOptions {
  /**
   * The app is created with `abortOnError: false`, so an error thrown while
   * Nest builds the module graph (a refused model, a port in use) reaches the
   * caller, which reports it. Nest's ExceptionHandler logs the same error
   * first; with this set that copy goes to debug instead of printing twice.
   */
  readonly callerReportsBootErrors?: boolean;
}

/** Routes Nest's own log lines into the same structured, redacted pino stream. */
export class PinoNestLogger implements LoggerService {
  constructor(
    private readonly logger: Logger,
    private readonly options: PinoNestLoggerOptions = {},
  ) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    if (this.options.callerReportsBootErrors && context === 'ExceptionHandler') {
      this.logger.debug({ context }, String(message));
      return;
    }
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
