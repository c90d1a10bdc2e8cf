import { logLevel, type LogEntry } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajsLogCreator, type BusLogger } from './kafkajs-logger';

function route(level: logLevel, message: string, extra: Record<string, unknown> = {}): string[] {
  const calls: string[] = [];
  const logger: BusLogger = {
    debug: (_o, m) => calls.push(`debug ${m}`),
    info: (_o, m) => calls.push(`info ${m}`),
    warn: (_o, m) => calls.push(`warn ${m}`),
    error: (_o, m) => calls.push(`error ${m}`),
  };
  const entry: LogEntry = {
    namespace: 'Consumer',
    level,
    label: logLevel[level],
    log: { timestamp: '2024-01-01T00:00:00Z', message, ...extra },
  };
  kafkajsLogCreator(logger)(logLevel.WARN)(entry);
  return calls;
}

describe('kafkajsLogCreator', () => {
  it('sends the known routine warnings to debug', () => {
    expect(route(logLevel.WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees')).toEqual([
      'debug Limiting retries for the idempotent producer may invalidate EoS guarantees',
    ]);
    expect(route(logLevel.ERROR, 'The group is rebalancing, re-joining')).toEqual([
      'debug The group is rebalancing, re-joining',
    ]);
    expect(
      route(logLevel.ERROR, 'Response GroupCoordinator(key: 10, version: 2)', {
        error: "The coordinator is loading and hence can't process requests",
      }),
    ).toEqual(['debug Response GroupCoordinator(key: 10, version: 2)']);
  });

  it('keeps real errors visible (as warn: kafkajs retries them) and INFO at debug', () => {
    expect(route(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:9092')).toEqual([
      'warn Connection error: connect ECONNREFUSED 127.0.0.1:9092',
    ]);
    expect(route(logLevel.INFO, 'Consumer has joined the group')).toEqual(['debug Consumer has joined the group']);
  });
});
