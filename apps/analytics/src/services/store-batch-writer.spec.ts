import { describe, expect, it } from 'vitest';
import { RetryLaterError } from '@crowdlens/bus';
import { classifyStoreError, type ApplyResult } from '@crowdlens/storage';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { StoreBatchWriter } from './store-batch-writer';

function writer(apply: (records: readonly number[]) => Promise<ApplyResult>) {
  const registry = new Registry();
  const counter = (name: string) => new Counter({ name, help: name, registers: [registry] });
  const metrics = {
    applied: counter('applied'),
    duplicates: counter('duplicates'),
    failures: counter('failures'),
    rejected: counter('rejected'),
  };
  const value = async (c: Counter) => (await c.get()).values[0]?.value ?? 0;
  return {
    w: new StoreBatchWriter<number>({
      what: 'numbers',
      apply,
      classify: classifyStoreError,
      describe: (n) => `number ${n}`,
      logger: pino({ level: 'silent' }),
      ...metrics,
    }),
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

  it('dead-letters only the record the store refuses for good; the rest of its batch is stored, nothing is retried forever', async () => {
    const attempts: number[][] = [];
    const stored: number[] = [];
    const { w, value } = writer(async (records) => {
      attempts.push([...records]);
      // What pg raises for a NUL byte in a text value (SQLSTATE class 22, data exception).
      if (records.includes(13)) throw pgError('invalid byte sequence for encoding "UTF8": 0x00', '22021');
      stored.push(...records);
      return { applied: records.length, duplicates: 0, late: 0 };
    });
    const numbers = Array.from({ length: 40 }, (_, i) => i);
    const outcomes = await Promise.allSettled(numbers.map((n) => w.add(n)));

    const refused = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ n: i, reason: String(o.reason) }] : []));
    expect(refused).toEqual([{ n: 13, reason: expect.stringMatching(/number 13.*permanent.*0x00/) }]);
    expect(stored.sort((a, b) => a - b)).toEqual(numbers.filter((n) => n !== 13));
    // Halving: one try of the whole batch, then about 2·log2(40) more, never a retry loop.
    expect(attempts.length).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(40)));
    expect(await value('rejected')).toBe(1);
    expect(await value('failures')).toBe(0);
    expect(w.failing).toBe(false);
  });

  it('retries a transient store error (a serialization failure) instead of dead-lettering', async () => {
    let attempts = 0;
    const { w, value } = writer(async (records) => {
      attempts++;
      if (attempts === 1) throw pgError('could not serialize access due to concurrent update', '40001');
      return { applied: records.length, duplicates: 0, late: 0 };
    });
    await w.add(1);
    expect(attempts).toBe(2);
    expect(await value('rejected')).toBe(0);
    expect(await value('failures')).toBe(1);
  });
});

/** An error shaped as pg's DatabaseError: the server's SQLSTATE and severity. */
function pgError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR' });
}
