import pino, { type DestinationStream, type Logger } from 'pino';
import { redactText } from '@crowdlens/config';
import { prettyDestination } from './log-format';

export type { Logger } from 'pino';

/**
 * Structured JSON logs. Every message and error string passes through the
 * credential redactor: camera URLs must never reach a log line. Without a
 * destination, a terminal gets one readable line per entry (log-format.ts)
 * and anything else (a pipe, a file, a log collector) gets the JSON.
 */
export function createLogger(level: string, name = 'crowdlens', destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    hooks: {
      logMethod(args, method) {
        const redacted = args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>;
        method.apply(this, redacted);
      },
    },
    formatters: {
      log(obj) {
        return JSON.parse(redactText(JSON.stringify(obj))) as Record<string, unknown>;
      },
    },
  };
  if (destination) return pino(options, destination);
  return process.stdout.isTTY ? pino(options, prettyDestination(process.stdout)) : pino(options);
}
