import type { AlertPayload } from '../services/alert-payload';

/** A webhook message not yet delivered or given up, as the outbox keeps it. */
export interface StoredAlertMessage {
  /** Order of writing: messages go out in it, so a resolved never overtakes its firing. */
  readonly seq: number;
  readonly webhook: string;
  readonly payload: AlertPayload;
}

/**
 * Webhook messages kept in the store until they are delivered or given up, so
 * that neither a restart nor a failover to another analytics replica loses
 * one: the process that sends (the alert leader) writes each message before
 * it queues it, and a process that becomes the sender picks up what is left.
 * Delivery is at least once: a message delivered just before its sender
 * died goes out again, with the same id (X-CrowdLens-Delivery).
 */
export interface AlertOutbox {
  migrate(): Promise<void>;
  add(webhook: string, payload: AlertPayload): Promise<number>;
  remove(seq: number): Promise<void>;
  /** Everything left, oldest first. */
  pending(): Promise<StoredAlertMessage[]>;
}

export const ALERT_OUTBOX = Symbol('AlertOutbox');
