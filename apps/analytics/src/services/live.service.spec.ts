import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '@crowdlens/config';
import type { CameraRegistry } from './camera-registry.service';
import { LiveService, type LiveSnapshot } from './live.service';
import type { StatsService } from './stats.service';

/** Stats queries that each take `ms` (fake timers), counting how many ran at once. */
function slowStats(ms: number) {
  const load = { running: 0, peak: 0, started: 0 };
  const query = <T>(value: T) =>
    new Promise<T>((resolve) => {
      load.started++;
      load.running++;
      load.peak = Math.max(load.peak, load.running);
      setTimeout(() => {
        load.running--;
        resolve(value);
      }, ms);
    });
  const stats = {
    stats: () => query({ rows: [], totals: {} }),
    groups: () => query({ rows: [] }),
  } as unknown as StatsService;
  return { stats, load };
}

const cameras = { list: () => [] } as unknown as CameraRegistry;

describe('LiveService', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('still delivers snapshots when a query takes longer than the interval, one query at a time', async () => {
    vi.useFakeTimers();
    const config = parseConfig({ analytics: { liveIntervalMs: 1_000 } });
    const { stats, load } = slowStats(2_500);
    const live = new LiveService(config, stats, cameras);
    const got: LiveSnapshot[] = [];
    const sub = live.snapshots$.subscribe((s) => got.push(s));
    await vi.advanceTimersByTimeAsync(10_000);
    sub.unsubscribe();
    // 2.5 s a query, ticks every second: a snapshot about every 3 s, queries never overlapping.
    expect(got.length).toBeGreaterThanOrEqual(3);
    expect(load.peak).toBe(2); // stats() and groups() of one snapshot, in parallel
    expect(load.started).toBe(2 * got.length + (load.running > 0 ? 2 : 0));
  });

  it('delivers one snapshot per tick when the queries are fast', async () => {
    vi.useFakeTimers();
    const config = parseConfig({ analytics: { liveIntervalMs: 1_000 } });
    const live = new LiveService(config, slowStats(10).stats, cameras);
    const got: LiveSnapshot[] = [];
    const sub = live.snapshots$.subscribe((s) => got.push(s));
    await vi.advanceTimersByTimeAsync(5_050);
    sub.unsubscribe();
    expect(got).toHaveLength(6); // at 0 (startWith) and each of 5 ticks
  });
});
