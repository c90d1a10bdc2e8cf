import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { parseConfig } from '@crowdlens/config';
import type { AggregateStore, LineZoneStore, RetentionResult } from '@crowdlens/storage';
import { RetentionService } from './retention.service';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);
const clock = { now: () => NOW, monotonicMs: () => 0 };
const expired: RetentionResult = { minuteBuckets: 1, tracks: 2, predictionIds: 3, trackEventIds: 4 };

function service(aggregate: () => Promise<RetentionResult>) {
  const calls: Array<{ store: string; before: number }> = [];
  const store = {
    applyRetention: (before: number) => {
      calls.push({ store: 'aggregate', before });
      return aggregate();
    },
  } as unknown as AggregateStore;
  const lineZones = {
    applyRetention: (before: number) => {
      calls.push({ store: 'line-zone', before });
      return Promise.resolve({ crossings: 5, visits: 6 });
    },
  } as unknown as LineZoneStore;
  const config = parseConfig({ analytics: { minuteRetentionDays: 7 } });
  return { calls, retention: new RetentionService(config, store, lineZones, clock, pino({ level: 'silent' })) };
}

describe('RetentionService', () => {
  it('expires per-track records and the crossings and zone visits that take their gender from them, at one age', async () => {
    const { calls, retention } = service(() => Promise.resolve(expired));
    await expect(retention.run()).resolves.toEqual(expired);
    expect(calls).toEqual([
      { store: 'aggregate', before: NOW - 7 * DAY },
      { store: 'line-zone', before: NOW - 7 * DAY },
    ]);
  });

  it('still expires crossings when the aggregate store fails, and reports that run as failed', async () => {
    const { calls, retention } = service(() => Promise.reject(new Error('database is locked')));
    await expect(retention.run()).resolves.toBeNull();
    expect(calls.map((c) => c.store)).toEqual(['aggregate', 'line-zone']);
  });
});
