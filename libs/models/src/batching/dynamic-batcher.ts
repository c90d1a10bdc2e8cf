export interface DynamicBatcherOptions {
  /** A batch runs as soon as it has this many items... */
  readonly maxBatch: number;
  /** ...or when its oldest item has waited this long. */
  readonly maxWaitMs: number;
  /** Pending items; `submit` waits (backpressure) once this many are queued. */
  readonly queueCapacity: number;
  /** Batches allowed to run at the same time. */
  readonly maxInFlight: number;
}

export interface BatchReport {
  readonly size: number;
  /** size / maxBatch: how full the batch was. */
  readonly fill: number;
  /** Longest time an item of this batch waited in the queue. */
  readonly maxQueueWaitMs: number;
  readonly runMs: number;
  readonly reason: 'size' | 'time' | 'drain';
}

export type BatchRunner<I, O> = (items: readonly I[]) => Promise<readonly O[]>;

/** What the batcher tells its owner; none of it affects the batches. */
export interface DynamicBatcherHooks {
  /** After each batch (metrics). */
  readonly onBatch?: (report: BatchReport) => void;
  /**
   * `onBatch` threw. The batch's items are answered already; the error is
   * handed here instead of becoming an unhandled rejection that would stop the
   * process. Default: a process warning.
   */
  readonly onReportError?: (error: Error, report: BatchReport) => void;
  /** Monotonic ms; default performance.now. */
  readonly now?: () => number;
}

interface Pending<I, O> {
  readonly item: I;
  readonly enqueuedAt: number;
  readonly resolve: (value: O) => void;
  readonly reject: (error: Error) => void;
}

export class BatcherClosedError extends Error {
  constructor() {
    super('batcher is closed');
    this.name = 'BatcherClosedError';
  }
}

/**
 * Collects single items into batches for a model: flush at `maxBatch` or
 * after `maxWaitMs`, whichever comes first (DeepStream's batch size + push
 * timeout). Bounded: when `queueCapacity` items wait, `submit` itself waits,
 * so a slow model slows its producers instead of eating memory.
 */
export class DynamicBatcher<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private readonly spaceWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The item the pending timer was set for: its deadline, not a newer item's, is what the timer measures. */
  private timerFor: Pending<I, O> | null = null;
  private inFlight = 0;
  private closed = false;
  private readonly running = new Set<Promise<void>>();

  private readonly now: () => number;

  constructor(
    private readonly options: DynamicBatcherOptions,
    private readonly runner: BatchRunner<I, O>,
    private readonly hooks: DynamicBatcherHooks = {},
  ) {
    this.now = hooks.now ?? (() => performance.now());
    if (options.maxBatch < 1 || options.queueCapacity < 1 || options.maxInFlight < 1) {
      throw new RangeError('maxBatch, queueCapacity and maxInFlight must be >= 1');
    }
  }

  get queued(): number {
    return this.queue.length;
  }

  async submit(item: I): Promise<O> {
    while (this.queue.length >= this.options.queueCapacity && !this.closed) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
    if (this.closed) throw new BatcherClosedError();
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, enqueuedAt: this.now(), resolve, reject });
      this.schedule();
    });
  }

  /** Runs what is queued now, without waiting for a full batch, and waits for every batch to finish. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running.size > 0) {
      if (this.queue.length > 0 && this.inFlight < this.options.maxInFlight) this.dispatch('drain');
      await Promise.race([...this.running, new Promise((r) => setTimeout(r, 5))]);
    }
  }

  /** Stops intake, finishes what was accepted. */
  async close(): Promise<void> {
    this.closed = true;
    this.spaceWaiters.splice(0).forEach((wake) => wake());
    await this.drain();
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerFor = null;
  }

  private schedule(): void {
    while (this.queue.length >= this.options.maxBatch && this.inFlight < this.options.maxInFlight) {
      this.dispatch('size');
    }
    const oldest = this.queue[0];
    if (!oldest || this.inFlight >= this.options.maxInFlight) {
      this.clearTimer();
      return;
    }
    // A timer set for an item that has left the queue (a full batch or a drain took it) would fire
    // on that item's deadline and send the newer items early: it is replaced, not kept.
    if (this.timer && this.timerFor === oldest) return;
    this.clearTimer();
    const delay = Math.max(0, this.options.maxWaitMs - (this.now() - oldest.enqueuedAt));
    this.timerFor = oldest;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerFor = null;
      const first = this.queue[0];
      // Node may fire a timer a fraction of a millisecond early: only a batch that waited its time goes.
      const waited = first !== undefined && this.now() - first.enqueuedAt >= this.options.maxWaitMs - 1;
      if (waited && this.inFlight < this.options.maxInFlight) this.dispatch('time');
      this.schedule();
    }, delay);
  }

  private dispatch(reason: BatchReport['reason']): void {
    const batch = this.queue.splice(0, this.options.maxBatch);
    if (batch.length === 0) return;
    this.spaceWaiters.splice(0, batch.length).forEach((wake) => wake());
    this.inFlight++;
    const started = this.now();
    const maxQueueWaitMs = started - batch[0]!.enqueuedAt;
    const run = this.execute(batch)
      .then((runMs) =>
        this.report({ size: batch.length, fill: batch.length / this.options.maxBatch, maxQueueWaitMs, runMs, reason }),
      )
      .finally(() => {
        this.inFlight--;
        this.running.delete(run);
        this.schedule();
      });
    this.running.add(run);
  }

  /** Metrics must never break the batcher: `run` has no other handler, so a throw here was an unhandled rejection. */
  private report(report: BatchReport): void {
    try {
      this.hooks.onBatch?.(report);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (this.hooks.onReportError) this.hooks.onReportError(error, report);
      else process.emitWarning(`DynamicBatcher onBatch hook failed: ${error.message}`);
    }
  }

  private async execute(batch: Pending<I, O>[]): Promise<number> {
    const started = this.now();
    try {
      const results = await this.runner(batch.map((p) => p.item));
      if (results.length !== batch.length) {
        throw new Error(`batch runner returned ${results.length} results for ${batch.length} items`);
      }
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      batch.forEach((p) => p.reject(error));
    }
    return this.now() - started;
  }
}
