import { describe, expect, it } from 'vitest';
import pino, { type Logger } from 'pino';
import { parseConfig, type AppConfigInput } from '@crowdlens/config';
import type { AggregateStore, LineZoneStore, RetentionResult } from '@crowdlens/storage';
import { RetentionService } from './retention.service';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);
const clock = { now: () => NOW, monotonicMs: () => 0 };
const expired: RetentionResult = { minuteBuckets: 1, tracks: 2, predictionIds: 3, trackEventIds: 4 };

function service(
  lineZone: () => Promise<{ crossings: number; visits: number }>,
  input: AppConfigInput = { analytics: { minuteRetentionDays: 7 } },
  logger: Logger = pino({ level: 'silent' }),
) {
  const calls: Array<{ store: string; before: number }> = [];
  const store = {
    applyRetention: (before: number) => {
      calls.push({ store: 'aggregate', before });
      return Promise.resolve(expired);
    },
  } as unknown as AggregateStore;
  const lineZones = {
    applyRetention: (before: number) => {
      calls.push({ store: 'line-zone', before });
      return lineZone();
    },
  } as unknown as LineZoneStore;
  return { calls, retention: new RetentionService(parseConfig(input), store, lineZones, clock, logger) };
}

describe('RetentionService', () => {
  it('folds crossings and zone visits first, while the per-track records that hold their votes are there', async () => {
    const { calls, retention } = service(() => Promise.resolve({ crossings: 5, visits: 6 }));
    await expect(retention.run()).resolves.toEqual(expired);
    expect(calls).toEqual([
      { store: 'line-zone', before: NOW - 7 * DAY },
      { store: 'aggregate', before: NOW - 7 * DAY },
    ]);
  });

  it('keeps the per-track records for the next run when folding the crossings fails, and reports the run as failed', async () => {
    const { calls, retention } = service(() => Promise.reject(new Error('database is locked')));
    await expect(retention.run()).resolves.toBeNull();
    expect(calls.map((c) => c.store)).toEqual(['line-zone']);
  });

  it('warns at start when the broker keeps events longer than analytics keeps the records that make them count once', () => {
    const warnings = (input: AppConfigInput): string[] => {
      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
      const { retention } = service(() => Promise.resolve({ crossings: 0, visits: 0 }), input, logger);
      retention.onApplicationBootstrap();
      retention.onApplicationShutdown();
      return lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    };
    const kafka = { type: 'kafka' as const, brokers: ['127.0.0.1:9092'], retentionMs: 7 * DAY };
    expect(warnings({ bus: kafka, analytics: { minuteRetentionDays: 3 } })).toEqual([
      expect.stringContaining('analytics.minuteRetentionDays is shorter than bus.retentionMs'),
    ]);
    expect(warnings({ bus: kafka, analytics: { minuteRetentionDays: 7 } })).toEqual([]);
    // The in-memory bus redelivers nothing after a restart.
    expect(warnings({ analytics: { minuteRetentionDays: 1 } })).toEqual([]);
  });
});
