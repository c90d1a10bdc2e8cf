import { describe, expect, it } from 'vitest';
import { DynamicBatcher, type BatchReport } from './dynamic-batcher';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recording(delayMs = 0) {
  const batches: number[][] = [];
  const runner = async (items: readonly number[]) => {
    batches.push([...items]);
    if (delayMs) await sleep(delayMs);
    return items.map((x) => x * 10);
  };
  return { batches, runner };
}

describe('DynamicBatcher', () => {
  it('flushes as soon as a batch is full, without waiting for the deadline', async () => {
    const { batches, runner } = recording();
    const reports: BatchReport[] = [];
    const b = new DynamicBatcher({ maxBatch: 4, maxWaitMs: 10_000, queueCapacity: 100, maxInFlight: 1 }, runner, (r) =>
      reports.push(r),
    );
    const started = Date.now();
    const results = await Promise.all([1, 2, 3, 4].map((x) => b.submit(x)));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(results).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1, 2, 3, 4]]);
    expect(reports[0]).toMatchObject({ size: 4, fill: 1, reason: 'size' });
    await b.close();
  });

  it('flushes a partial batch when the oldest item has waited maxWaitMs', async () => {
    const { batches, runner } = recording();
    const reports: BatchReport[] = [];
    const b = new DynamicBatcher({ maxBatch: 32, maxWaitMs: 30, queueCapacity: 100, maxInFlight: 1 }, runner, (r) =>
      reports.push(r),
    );
    const pending = [b.submit(1), b.submit(2)];
    await sleep(5);
    expect(batches).toEqual([]);
    expect(await Promise.all(pending)).toEqual([10, 20]);
    expect(batches).toEqual([[1, 2]]);
    expect(reports[0]).toMatchObject({ size: 2, reason: 'time' });
    expect(reports[0]!.fill).toBeCloseTo(2 / 32);
    await b.close();
  });

  it('applies backpressure: submit waits while the queue is full, nothing is lost', async () => {
    const { batches, runner } = recording(20);
    const b = new DynamicBatcher({ maxBatch: 2, maxWaitMs: 1, queueCapacity: 3, maxInFlight: 1 }, runner);
    let accepted = 0;
    const all: Promise<number>[] = [];
    for (let i = 0; i < 12; i++) {
      all.push(
        b.submit(i).then((v) => {
          accepted++;
          return v;
        }),
      );
    }
    // The queue never holds more than its capacity, however many submitters wait.
    let maxQueued = 0;
    const probe = setInterval(() => (maxQueued = Math.max(maxQueued, b.queued)), 1);
    const results = await Promise.all(all);
    clearInterval(probe);
    expect(maxQueued).toBeLessThanOrEqual(3);
    expect(results).toEqual([...Array(12).keys()].map((i) => i * 10));
    expect(accepted).toBe(12);
    expect(batches.flat().sort((a, b2) => a - b2)).toEqual([...Array(12).keys()]);
    await b.close();
  });

  it('runs at most maxInFlight batches at once', async () => {
    let running = 0;
    let peak = 0;
    const b = new DynamicBatcher({ maxBatch: 2, maxWaitMs: 1, queueCapacity: 100, maxInFlight: 2 }, async (items) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(15);
      running--;
      return items;
    });
    await Promise.all([...Array(20).keys()].map((i) => b.submit(i)));
    expect(peak).toBe(2);
    await b.close();
  });

  it('rejects every item of a failed batch with the runner error, and keeps serving', async () => {
    let fail = true;
    const b = new DynamicBatcher({ maxBatch: 2, maxWaitMs: 1, queueCapacity: 10, maxInFlight: 1 }, async (items) => {
      if (fail) {
        fail = false;
        throw new Error('model exploded');
      }
      return items;
    });
    const first = await Promise.allSettled([b.submit(1), b.submit(2)]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((first[0] as PromiseRejectedResult).reason.message).toBe('model exploded');
    expect(await b.submit(3)).toBe(3);
    await b.close();
  });

  it('close() finishes accepted work and refuses new work', async () => {
    const { runner } = recording(5);
    const b = new DynamicBatcher({ maxBatch: 8, maxWaitMs: 10_000, queueCapacity: 10, maxInFlight: 1 }, runner);
    const accepted = b.submit(7);
    await b.close();
    expect(await accepted).toBe(70);
    await expect(b.submit(8)).rejects.toThrow('closed');
  });
});
