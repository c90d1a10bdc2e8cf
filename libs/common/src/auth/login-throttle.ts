/**
 * Slows password guessing: after a few failures a username, and separately a
 * client address, must wait before its next try, twice as long after each
 * further failure; and only a few logins run at once, since each costs an
 * scrypt (16 MB, tens of ms of a thread-pool thread). Per process, in memory.
 */
import { backoffDelay } from '@crowdlens/runtime';

export class LoginThrottledError extends Error {
  constructor(
    readonly retryAfterS: number,
    readonly reason: 'backoff' | 'busy',
  ) {
    super(
      reason === 'busy'
        ? `too many logins in progress; retry in ${retryAfterS}s`
        : `too many failed logins; retry in ${retryAfterS}s`,
    );
    this.name = 'LoginThrottledError';
  }
}

export interface LoginThrottleOptions {
  /** Failures allowed before the first wait. */
  readonly freeFailures: number;
  /** The first wait; doubled after each further failure. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Logins verified at the same time; more are refused at once. */
  readonly maxConcurrent: number;
  /** Keys remembered at most (a scan of many usernames or addresses cannot grow the map without bound). */
  readonly maxKeys: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  maxConcurrent: 4,
  maxKeys: 10_000,
};

interface Failures {
  count: number;
  /** No try before this (epoch ms). */
  until: number;
}

export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();
  private inFlight = 0;

  constructor(private readonly opts: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE) {}

  /**
   * Runs one login attempt for these keys (e.g. `user:ada`, `ip:10.0.0.5`) if
   * none of them must wait and a slot is free; throws LoginThrottledError
   * otherwise. `attempt` resolves true on success, which clears the keys.
   */
  async run(keys: readonly string[], attempt: () => Promise<boolean>, now: () => number = Date.now): Promise<boolean> {
    const start = now();
    const wait = Math.max(0, ...keys.map((k) => (this.failures.get(k)?.until ?? 0) - start));
    if (wait > 0) throw new LoginThrottledError(Math.ceil(wait / 1000), 'backoff');
    if (this.inFlight >= this.opts.maxConcurrent) throw new LoginThrottledError(1, 'busy');
    this.inFlight++;
    try {
      const ok = await attempt();
      for (const k of keys) {
        if (ok) this.forget(k);
        else this.fail(k, now());
      }
      return ok;
    } finally {
      this.inFlight--;
    }
  }

  private fail(key: string, now: number): void {
    const f = this.failures.get(key) ?? { count: 0, until: 0 };
    f.count++;
    const over = f.count - this.opts.freeFailures;
    if (over > 0) {
      const { baseDelayMs: initialMs, maxDelayMs: maxMs } = this.opts;
      f.until = now + backoffDelay(over - 1, { initialMs, maxMs, factor: 2, jitter: 0 });
    }
    this.failures.delete(key); // re-insert: Map order doubles as least-recently-failed order
    this.failures.set(key, f);
    while (this.failures.size > this.opts.maxKeys) this.failures.delete(this.failures.keys().next().value as string);
  }

  private forget(key: string): void {
    this.failures.delete(key);
  }
}
