import { describe, expect, it } from 'vitest';
import { runPartitionWindow, WindowHandlerError, type WindowControls } from './partition-window';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Deferred {
  resolve(): void;
  reject(err: Error): void;
  readonly promise: Promise<void>;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { resolve, reject, promise };
}

function messages(n: number, first = 100): { offset: string }[] {
  return Array.from({ length: n }, (_, i) => ({ offset: String(first + i) }));
}

class FakeControls implements WindowControls {
  readonly resolved: string[] = [];
  heartbeats = 0;
  commits = 0;
  running = true;
  stale = false;
  heartbeatError: Error | null = null;

  resolveOffset(offset: string): void {
    this.resolved.push(offset);
  }
  async heartbeat(): Promise<void> {
    this.heartbeats++;
    if (this.heartbeatError) throw this.heartbeatError;
  }
  async commitIfDue(): Promise<void> {
    this.commits++;
  }
  isRunning(): boolean {
    return this.running;
  }
  isStale(): boolean {
    return this.stale;
  }
  get last(): string | undefined {
    return this.resolved[this.resolved.length - 1];
  }
}

/** Lets every pending promise callback run. */
const flush = () => sleep(5);

describe('runPartitionWindow', () => {
  it('keeps `concurrency` handlers in flight and resolves only the completed prefix', async () => {
    const msgs = messages(6);
    const gates = new Map(msgs.map((m) => [m.offset, deferred()]));
    const started: string[] = [];
    const controls = new FakeControls();
    const run = runPartitionWindow(
      msgs,
      (m) => {
        started.push(m.offset);
        return gates.get(m.offset)!.promise;
      },
      controls,
      { concurrency: 3, heartbeatIntervalMs: 1_000 },
    );
    await flush();
    expect(started).toEqual(['100', '101', '102']);

    gates.get('102')!.resolve(); // out of order: nothing before it is done
    await flush();
    expect(controls.resolved).toEqual([]);
    expect(started).toEqual(['100', '101', '102', '103']);

    gates.get('100')!.resolve();
    await flush();
    expect(controls.last).toBe('100');

    gates.get('101')!.resolve(); // 100..102 now contiguous
    await flush();
    expect(controls.last).toBe('102');

    for (const o of ['105', '104', '103']) gates.get(o)!.resolve();
    const result = await run;
    expect(controls.last).toBe('105');
    expect(result).toEqual({ started: 6, resolved: 6, peakInFlight: 3, stoppedBy: 'end' });
  });

  it('with concurrency 1 runs strictly one after another, in order', async () => {
    const order: string[] = [];
    let inFlight = 0;
    let peak = 0;
    const result = await runPartitionWindow(
      messages(5),
      async (m) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(2);
        order.push(m.offset);
        inFlight--;
      },
      new FakeControls(),
      { concurrency: 1, heartbeatIntervalMs: 1_000 },
    );
    expect(order).toEqual(['100', '101', '102', '103', '104']);
    expect(peak).toBe(1);
    expect(result.resolved).toBe(5);
  });

  it('stops taking messages when the consumer stops, finishes the running ones, resolves what completed', async () => {
    const msgs = messages(10);
    const controls = new FakeControls();
    const started: string[] = [];
    const run = runPartitionWindow(
      msgs,
      async (m) => {
        started.push(m.offset);
        await sleep(30);
      },
      controls,
      { concurrency: 4, heartbeatIntervalMs: 1_000 },
    );
    await flush();
    controls.running = false; // consumer.disconnect() began
    const result = await run;
    expect(started).toEqual(['100', '101', '102', '103']);
    expect(result).toMatchObject({ started: 4, resolved: 4, stoppedBy: 'stopping' });
    // The rest stays unresolved, so the group's next member gets it.
    expect(controls.last).toBe('103');
  });

  it('a failed handler stops the batch short of it: nothing from its offset on is resolved', async () => {
    const msgs = messages(8);
    const controls = new FakeControls();
    const completed: string[] = [];
    const run = runPartitionWindow(
      msgs,
      async (m) => {
        if (m.offset === '102') {
          await sleep(10);
          throw new Error('dead-letter publish failed');
        }
        await sleep(m.offset === '101' ? 40 : 1);
        completed.push(m.offset);
      },
      controls,
      { concurrency: 4, heartbeatIntervalMs: 1_000 },
    );
    const error = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WindowHandlerError);
    expect((error as WindowHandlerError).offset).toBe('102');
    expect((error as WindowHandlerError).message).toMatch(/dead-letter publish failed/);
    // 101 was still running when 102 failed: it was awaited, and the prefix 100..101 resolved.
    expect(completed).toContain('101');
    expect(controls.last).toBe('101');
    // Messages after the failure that had completed are not resolved either (they will be redelivered).
    expect(completed).toContain('103');
    expect(controls.resolved.every((o) => Number(o) < 102)).toBe(true);
  });

  it('heartbeats while handlers are slow, so a long batch keeps its group membership', async () => {
    const controls = new FakeControls();
    await runPartitionWindow(messages(2), async () => void (await sleep(120)), controls, {
      concurrency: 2,
      heartbeatIntervalMs: 10,
    });
    expect(controls.heartbeats).toBeGreaterThanOrEqual(5);
    expect(controls.commits).toBeGreaterThanOrEqual(5);
  });

  it('a group error (rebalance) stops intake, drains the window, then surfaces', async () => {
    const controls = new FakeControls();
    const started: string[] = [];
    const run = runPartitionWindow(
      messages(20),
      async (m) => {
        started.push(m.offset);
        await sleep(15);
      },
      controls,
      { concurrency: 2, heartbeatIntervalMs: 5 },
    );
    await sleep(20);
    controls.heartbeatError = Object.assign(new Error('The group is rebalancing'), { type: 'REBALANCE_IN_PROGRESS' });
    const before = controls.heartbeats;
    const heartbeatsDuringDrain = () => controls.heartbeats - before - 1;
    const error = await run.then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe('The group is rebalancing');
    expect(started.length).toBeLessThan(20);
    // It kept heartbeating while the window drained, so the member's session stays alive.
    expect(heartbeatsDuringDrain()).toBeGreaterThan(0);
    // Everything started finished and was resolved before the error surfaced.
    expect(controls.last).toBe(started[started.length - 1]);
  });

  it('stops at a seek (stale batch) like at shutdown', async () => {
    const controls = new FakeControls();
    controls.stale = true;
    const result = await runPartitionWindow(messages(3), async () => undefined, controls, {
      concurrency: 2,
      heartbeatIntervalMs: 1_000,
    });
    expect(result).toMatchObject({ started: 0, resolved: 0, stoppedBy: 'stale' });
    expect(controls.resolved).toEqual([]);
  });

  it('treats a handler that throws synchronously as a failure, not a crash of the window', async () => {
    const controls = new FakeControls();
    const error = await runPartitionWindow(
      messages(1),
      () => {
        throw new Error('sync boom');
      },
      controls,
      { concurrency: 1, heartbeatIntervalMs: 1_000 },
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WindowHandlerError);
    expect(controls.resolved).toEqual([]);
  });
});
