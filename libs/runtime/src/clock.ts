/**
 * The clock port. Two readings, for two jobs: the wall clock for what a person reads (timestamps in
 * messages and the store), and a monotonic one for everything measured between two moments
 * (tracking, stalls, deadlines). The wall clock is stepped by NTP or by hand, forwards and back; a
 * duration taken from it can be negative or an hour long.
 */
export interface Clock {
  /** Wall-clock time, epoch ms. May jump. */
  now(): number;
  /** Monotonic ms from an arbitrary origin: never goes back, unaffected by wall-clock steps. */
  monotonicMs(): number;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
};
