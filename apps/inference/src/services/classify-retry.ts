import { RetryLaterError } from '@crowdlens/bus';
import { ExponentialBackoff, type BackoffOptions } from '@crowdlens/runtime';
import { BatcherClosedError } from '@crowdlens/models';

export interface ClassifyRetryOptions {
  /** Tries per crop, the first included; the crop is dead-lettered after the last one fails. */
  readonly attempts: number;
  readonly backoff: Partial<BackoffOptions>;
}

/** About 1.4 s of retrying per crop: rides out a model session hiccup, not a broken model. */
export const DEFAULT_CLASSIFY_RETRY: ClassifyRetryOptions = {
  attempts: 4,
  backoff: { initialMs: 200, maxMs: 2_000, factor: 2, jitter: 0.2 },
};

/** Nest token to override DEFAULT_CLASSIFY_RETRY (tests). */
export const CLASSIFY_RETRY = Symbol('ClassifyRetryOptions');

/** The classifier failed on every try; the crop is dead-lettered with this as its reason. */
export class ClassificationFailedError extends Error {
  override readonly name = 'ClassificationFailedError';
}

/**
 * A classifier failure is not the crop's fault (the crop decoded fine): an
 * out-of-memory run, a GPU reset, a worker restarting. So the crop is tried
 * again, with backoff, a bounded number of times before it is given up and
 * dead-lettered — never forever, since a crop that reliably breaks the model
 * would otherwise hold its partition. A stop while a crop waits for its next
 * try hands it back (RetryLaterError): Kafka delivers it again after the restart.
 */
export class ClassifyRetry {
  private stopping = false;
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly options: ClassifyRetryOptions,
    private readonly onRetry: (error: Error, attempt: number) => void = () => undefined,
  ) {
    if (!(options.attempts >= 1)) throw new RangeError('classify retry needs at least 1 attempt');
  }

  async run<T>(classify: () => Promise<T>): Promise<T> {
    const backoff = new ExponentialBackoff(this.options.backoff);
    for (let attempt = 1; ; attempt++) {
      try {
        return await classify();
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (error instanceof BatcherClosedError || this.stopping) {
          throw new RetryLaterError(`inference stopping: ${error.message}`);
        }
        if (attempt >= this.options.attempts) {
          throw new ClassificationFailedError(`classifier failed ${attempt} times, last: ${error.message}`);
        }
        this.onRetry(error, attempt);
        await this.pause(backoff.next());
        if (this.stopping) throw new RetryLaterError(`inference stopping: ${error.message}`);
      }
    }
  }

  /** Cuts every retry pause short; what was waiting is handed back. */
  stop(): void {
    this.stopping = true;
    for (const wake of [...this.sleepers]) wake();
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
