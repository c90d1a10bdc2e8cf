import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { parseConfig } from '@crowdlens/config';
import type { AggregateStore, LineZoneStore, RetentionResult } from '@crowdlens/storage';
import { RetentionService } from './retention.service';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);
const clock = { now: () => NOW, monotonicMs: () => 0 };
const expired: RetentionResult = { minuteBuckets: 1, tracks: 2, predictionIds: 3, trackEventIds: 4 };

function service(lineZone: () => Promise<{ crossings: number; visits: number }>) {
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
  const config = parseConfig({ analytics: { minuteRetentionDays: 7 } });
  return { calls, retention: new RetentionService(config, store, lineZones, clock, pino({ level: 'silent' })) };
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
});
