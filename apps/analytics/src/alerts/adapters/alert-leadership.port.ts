/**
 * Which analytics process sends the alerts. Every replica evaluates the rules
 * (each sees every camera status and zone, so a standby is ready to take
 * over with the same picture), but only the one holding the leadership
 * hands messages to the webhooks: without it, N replicas send N copies.
 */
export interface AlertLeadership {
  /** Starts competing; resolves after the first attempt (leader or not). */
  start(): Promise<void>;
  /** True while this process is the one that sends. */
  isLeader(): boolean;
  /** Gives the leadership up (another replica takes it within its retry interval). */
  close(): Promise<void>;
}

export const ALERT_LEADERSHIP = Symbol('AlertLeadership');

/** One analytics process per store (SQLite, the embedded mode): it always sends. */
export class SoleLeadership implements AlertLeadership {
  async start(): Promise<void> {}

  isLeader(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}
