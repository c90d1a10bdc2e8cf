import type { Clock } from '@crowdlens/runtime';

/** An event stamped further ahead of this process's clock than analytics.maxClockAheadMs. */
export class FutureEventError extends Error {
  constructor(
    readonly cameraId: string,
    readonly field: string,
    readonly aheadMs: number,
    readonly maxAheadMs: number,
  ) {
    super(
      `camera ${cameraId}: ${field} is ${aheadMs} ms ahead of this analytics process's clock ` +
        `(analytics.maxClockAheadMs = ${maxAheadMs}); a clock that far ahead would make every later event late`,
    );
    this.name = 'FutureEventError';
  }
}

/**
 * Event times come from the ingest machines' wall clocks; lateness is judged against the newest one
 * seen per camera (the watermark), which never goes back. One event from the future (an ingest
 * clock stepped ahead, a corrupt stamp) would raise the watermark for good and every later event
 * would count as late. So an event time is bounded by the receiver's clock: further ahead than the
 * allowed skew, the event is refused (the bus dead-letters it with this reason; nothing is lost).
 */
export class EventTimeBound {
  constructor(
    private readonly clock: Clock,
    private readonly maxAheadMs: number,
  ) {}

  /** Throws FutureEventError when `ts` lies too far in this process's future. */
  check(cameraId: string, field: string, ts: number): void {
    const aheadMs = ts - this.clock.now();
    if (aheadMs > this.maxAheadMs) throw new FutureEventError(cameraId, field, aheadMs, this.maxAheadMs);
  }
}
