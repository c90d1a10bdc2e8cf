import pino, { type DestinationStream, type Logger } from 'pino';
import { redactText } from '@crowdlens/config';

export type { Logger } from 'pino';

/**
 * Structured JSON logs. Every message and error string passes through the
 * credential redactor: camera URLs must never reach a log line.
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
  return destination ? pino(options, destination) : pino(options);
}
