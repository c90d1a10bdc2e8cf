import { logLevel, type logCreator } from 'kafkajs';

/** The logger surface the Kafka adapter needs; a pino Logger fits it. */
export interface BusLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const SILENT_LOGGER: BusLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Routes kafkajs' own logs into ours. kafkajs logs every failed request at
 * ERROR even when it retries it (a broker restart prints dozens), so its
 * ERROR becomes our warn; a failure that outlives the retries reaches the
 * caller as an error instead. INFO (joins, stops) becomes debug.
 */
export function kafkajsLogCreator(logger: BusLogger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, ...extra } = log;
      const obj = { kafkajs: namespace, ...extra };
      switch (level) {
        case logLevel.ERROR:
        case logLevel.WARN:
          logger.warn(obj, message);
          break;
        case logLevel.INFO:
        case logLevel.DEBUG:
          logger.debug(obj, message);
          break;
        default:
          break;
      }
    };
}
