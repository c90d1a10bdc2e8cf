import { describe, expect, it } from 'vitest';
import type { Producer, ProducerBatch } from 'kafkajs';
import { SendQueue } from './send-queue';

/** A producer whose requests complete only when the test says so. */
function slowProducer() {
  const requests: Array<{ keys: string[]; done: () => void; fail: (e: Error) => void }> = [];
  const producer = {
    sendBatch: (batch: ProducerBatch) =>
      new Promise<void>((resolve, reject) => {
        const keys = (batch.topicMessages ?? []).flatMap((t) => t.messages.map((m) => String(m.key)));
        requests.push({ keys, done: () => resolve(), fail: reject });
      }),
  } as unknown as Producer;
  return { producer, requests };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('SendQueue', () => {
  it('holds at most maxQueuedMessages behind the request in flight; further publishes wait, in order, and nothing is lost', async () => {
    const { producer, requests } = slowProducer();
    const q = new SendQueue(producer, {
      maxBatchBytes: 1 << 20,
      maxBatchMessages: 100,
      maxQueuedMessages: 3,
      maxQueuedBytes: 1 << 20,
    });
    const acked: string[] = [];
    const sends = Array.from({ length: 11 }, (_, i) =>
      q.send('t', { key: `k${i}`, value: Buffer.from('x') }).then(() => acked.push(`k${i}`)),
    );
    await settle();
    // k0 is in flight; k1..k3 fill the queue; k4..k10 wait outside it.
    expect(requests.map((r) => r.keys)).toEqual([['k0']]);
    expect(q.stats()).toMatchObject({ queuedMessages: 3, waiting: 7, waitedTotal: 7 });

    requests[0]!.done();
    await settle();
    expect(requests[1]!.keys).toEqual(['k1', 'k2', 'k3']);
    expect(q.stats()).toMatchObject({ queuedMessages: 3, waiting: 4 });

    for (let i = 1; requests.length > i; i++) {
      requests[i]!.done();
      await settle();
    }
    await Promise.all(sends);
    expect(requests.flatMap((r) => r.keys)).toEqual(Array.from({ length: 11 }, (_, i) => `k${i}`));
    expect(acked).toEqual(Array.from({ length: 11 }, (_, i) => `k${i}`));
    expect(q.stats()).toMatchObject({ queuedMessages: 0, queuedBytes: 0, waiting: 0, waitedTotal: 7 });
  });

  it('bounds the queued bytes too, and lets an oversized message in alone', async () => {
    const { producer, requests } = slowProducer();
    const q = new SendQueue(producer, {
      maxBatchBytes: 1 << 20,
      maxBatchMessages: 100,
      maxQueuedMessages: 1000,
      maxQueuedBytes: 3_000,
    });
    const kb = Buffer.alloc(1_000);
    const sends = [
      q.send('t', { key: 'a', value: kb }),
      q.send('t', { key: 'b', value: kb }),
      q.send('t', { key: 'c', value: kb }),
      q.send('t', { key: 'd', value: kb }),
      q.send('t', { key: 'huge', value: Buffer.alloc(10_000) }),
    ];
    await settle();
    // a in flight; b and c fit (2 × 1,064 bytes), d would pass 3,000.
    expect(q.stats()).toMatchObject({ queuedMessages: 2, waiting: 2 });
    expect(q.stats().queuedBytes).toBeLessThanOrEqual(3_000);
    for (let i = 0; i < requests.length; i++) {
      requests[i]!.done();
      await settle();
    }
    await Promise.all(sends);
    // The 10 kB message went alone: it is over the byte bound by itself.
    expect(requests.map((r) => r.keys)).toEqual([['a'], ['b', 'c'], ['d'], ['huge']]);
    expect(q.stats()).toMatchObject({ queuedMessages: 0, queuedBytes: 0, waiting: 0 });
  });

  it('a failed request rejects its own messages and the queue goes on with the waiting ones', async () => {
    const { producer, requests } = slowProducer();
    const q = new SendQueue(producer, {
      maxBatchBytes: 1 << 20,
      maxBatchMessages: 100,
      maxQueuedMessages: 1,
      maxQueuedBytes: 1 << 20,
    });
    const first = q.send('t', { key: 'a', value: Buffer.from('1') });
    const second = q.send('t', { key: 'b', value: Buffer.from('2') });
    const third = q.send('t', { key: 'c', value: Buffer.from('3') });
    await settle();
    expect(q.stats()).toMatchObject({ queuedMessages: 1, waiting: 1 });
    requests[0]!.fail(new Error('broker gone'));
    await expect(first).rejects.toThrow('broker gone');
    await settle();
    requests[1]!.done();
    await settle();
    requests[2]!.done();
    await Promise.all([second, third]);
    expect(requests.map((r) => r.keys)).toEqual([['a'], ['b'], ['c']]);
  });
});
