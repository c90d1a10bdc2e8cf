/**
 * The one backoff rule of the code base: exponential, capped, optionally
 * jittered. Camera reconnects, the store writer's retries, the classifier's
 * retries, Kafka admin calls and the login throttle all take their delays
 * from here. Jitter spreads the retries of many callers behind one failed
 * dependency (cameras behind one switch), so they do not all hit it again in
 * the same instant.
 *
 * No imports on purpose: libs/bus and worker threads load this file directly
 * (`@crowdlens/runtime/backoff`), without the logger and config the barrel loads.
 */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  /** 0..1: each delay is drawn uniformly from base * [1 - jitter, 1 + jitter], then capped. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 };

function checked(opts: Partial<BackoffOptions>): BackoffOptions {
  const full = { ...DEFAULT_BACKOFF, ...opts };
  const { initialMs, maxMs, factor, jitter } = full;
  if (!(initialMs > 0) || !(maxMs >= initialMs) || !(factor >= 1) || !(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(`invalid backoff options ${JSON.stringify(full)}`);
  }
  return full;
}

/**
 * The delay before retry number `attempt` (0 = the first retry):
 * initialMs * factor^attempt, capped at maxMs, spread by the jitter.
 */
export function backoffDelay(
  attempt: number,
  opts: Partial<BackoffOptions> = {},
  random: () => number = Math.random,
): number {
  const { initialMs, maxMs, factor, jitter } = checked(opts);
  // Exponent capped so factor^n cannot overflow to Infinity after days of retries.
  const base = Math.min(maxMs, initialMs * factor ** Math.min(Math.max(0, attempt), 64));
  const spread = jitter === 0 ? 1 : 1 - jitter + 2 * jitter * random();
  return Math.round(Math.min(maxMs, base * spread));
}

/** A retry loop's state: `next()` is the delay before the next try, `reset()` after a success. */
export class ExponentialBackoff {
  private attempts = 0;
  private readonly opts: BackoffOptions;

  constructor(
    opts: Partial<BackoffOptions> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.opts = checked(opts);
  }

  /** Failed attempts since the last reset. */
  get attempt(): number {
    return this.attempts;
  }

  next(): number {
    return backoffDelay(this.attempts++, this.opts, this.random);
  }

  reset(): void {
    this.attempts = 0;
  }
}
