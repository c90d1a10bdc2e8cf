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
 * kafkajs warnings that ask nothing of an operator: the bounded producer
 * retry is deliberate (kafka-bus.ts), and a loading coordinator or a
 * rebalancing group is what every start and failover looks like (the bus
 * logs its own line per partition assignment instead).
 */
const ROUTINE_MESSAGES: readonly RegExp[] = [
  /Limiting retries for the idempotent producer may invalidate EoS guarantees/,
  /The coordinator is loading/,
  /The group is rebalancing/,
];

/**
 * Routes kafkajs' own logs into ours. kafkajs logs every failed request at
 * ERROR even when it retries it (a broker restart prints dozens), so its
 * ERROR becomes our warn; a failure that outlives the retries reaches the
 * caller as an error instead. INFO (joins, stops) and the routine warnings
 * above become debug.
 */
export function kafkajsLogCreator(logger: BusLogger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, ...extra } = log;
      const obj = { kafkajs: namespace, ...extra };
      switch (level) {
        case logLevel.ERROR:
        case logLevel.WARN:
          if (isRoutine(message, extra)) logger.debug(obj, message);
          else logger.warn(obj, message);
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

/** kafkajs puts the broker's error text in `error` when the message is generic ("Response JoinGroup…"). */
function isRoutine(message: string, extra: Record<string, unknown>): boolean {
  const error = typeof extra.error === 'string' ? extra.error : '';
  return ROUTINE_MESSAGES.some((re) => re.test(message) || re.test(error));
}
