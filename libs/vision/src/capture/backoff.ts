/**
 * Reconnect delays: exponential with jitter, capped. Jitter spreads the
 * reconnects of many cameras behind one failed switch or NVR, so they do not
 * all hit it again in the same instant.
 */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  /** 0..1: each delay is drawn uniformly from base * [1 - jitter, 1 + jitter], then capped. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 };

export class ExponentialBackoff {
  private attempts = 0;
  private readonly opts: BackoffOptions;

  constructor(
    opts: Partial<BackoffOptions> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.opts = { ...DEFAULT_BACKOFF, ...opts };
    const { initialMs, maxMs, factor, jitter } = this.opts;
    if (!(initialMs > 0) || !(maxMs >= initialMs) || !(factor >= 1) || !(jitter >= 0 && jitter <= 1)) {
      throw new RangeError(`invalid backoff options ${JSON.stringify(this.opts)}`);
    }
  }

  /** Failed attempts since the last reset. */
  get attempt(): number {
    return this.attempts;
  }

  next(): number {
    const { initialMs, maxMs, factor, jitter } = this.opts;
    // Exponent capped so factor^n cannot overflow to Infinity after days of retries.
    const base = Math.min(maxMs, initialMs * factor ** Math.min(this.attempts, 64));
    this.attempts++;
    const spread = 1 - jitter + 2 * jitter * this.random();
    return Math.round(Math.min(maxMs, base * spread));
  }

  reset(): void {
    this.attempts = 0;
  }
}
