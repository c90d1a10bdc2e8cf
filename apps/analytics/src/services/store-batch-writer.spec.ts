import { describe, expect, it } from 'vitest';
import { RetryLaterError } from '@crowdlens/bus';
import type { ApplyResult } from '@crowdlens/storage';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { StoreBatchWriter } from './store-batch-writer';

function writer(apply: (records: readonly number[]) => Promise<ApplyResult>) {
  const registry = new Registry();
  const counter = (name: string) => new Counter({ name, help: name, registers: [registry] });
  const metrics = { applied: counter('applied'), duplicates: counter('duplicates'), failures: counter('failures') };
  const value = async (c: Counter) => (await c.get()).values[0]?.value ?? 0;
  return {
    w: new StoreBatchWriter<number>({ what: 'numbers', apply, logger: pino({ level: 'silent' }), ...metrics }),
    value: (name: keyof typeof metrics) => value(metrics[name]),
  };
}

describe('StoreBatchWriter', () => {
  it('stores what arrives together in one transaction and resolves each add only after it committed', async () => {
    const calls: number[][] = [];
    let committed = false;
    const { w, value } = writer(async (records) => {
      calls.push([...records]);
      committed = true;
      return { applied: records.length - 1, duplicates: 1, late: 0 };
    });
    const adds = [1, 2, 3].map((n) => w.add(n).then(() => committed));
    expect(await Promise.all(adds)).toEqual([true, true, true]);
    expect(calls).toEqual([[1, 2, 3]]);
    expect(await value('applied')).toBe(2);
    expect(await value('duplicates')).toBe(1);
  });

  it('waits out a failing store: retries the same batch, says it is failing meanwhile, drops nothing', async () => {
    let attempts = 0;
    const seenFailing: boolean[] = [];
    const { w, value } = writer(async (records) => {
      attempts++;
      seenFailing.push(w.failing);
      if (attempts < 3) throw new Error('connection refused');
      return { applied: records.length, duplicates: 0, late: 0 };
    });
    await w.add(7);
    expect(attempts).toBe(3);
    expect(seenFailing).toEqual([false, true, true]);
    expect(w.failing).toBe(false);
    expect(await value('failures')).toBe(2);
    expect(await value('applied')).toBe(1);
  });

  it('hands the batch back (RetryLaterError) when stopped while the store is down', async () => {
    const { w } = writer(async () => {
      throw new Error('database is restarting');
    });
    const pending = w.add(1);
    const outcome = pending.then(
      () => 'stored',
      (err: unknown) => err,
    );
    await new Promise((r) => setTimeout(r, 150));
    await w.stop(async () => undefined);
    expect(await outcome).toBeInstanceOf(RetryLaterError);
  });
});
