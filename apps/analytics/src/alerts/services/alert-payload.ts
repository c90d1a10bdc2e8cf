import { randomUUID } from 'node:crypto';
import type { AlertRuleType } from '@crowdlens/config';
import type { AlertTransition, AlertValue } from './alert-evaluator';

export const ALERT_PAYLOAD_VERSION = 1;

/**
 * The JSON body of a webhook message (docs/alerts.md). Names the camera by id
 * and display name only: no source URL, no credentials, no secret.
 */
export interface AlertPayload {
  readonly schemaVersion: typeof ALERT_PAYLOAD_VERSION;
  /** Unique per message: a receiver that sees it twice (a retry after a lost answer) drops the copy. */
  readonly id: string;
  /** Same for the firing and the resolved message of one occurrence. */
  readonly alertId: string;
  readonly rule: string;
  readonly type: AlertRuleType;
  readonly state: 'firing' | 'resolved';
  readonly camera: { readonly id: string; readonly name: string };
  readonly zone: string | null;
  readonly value: AlertValue;
  readonly threshold: number | null;
  readonly forSeconds: number;
  /** ISO 8601: when the condition began to hold. */
  readonly startedAt: string;
  /** ISO 8601: when it fired or resolved; inside the signed body, so a replayed old message shows its age. */
  readonly at: string;
}

export function alertPayload(t: AlertTransition, id: string = randomUUID()): AlertPayload {
  return {
    schemaVersion: ALERT_PAYLOAD_VERSION,
    id,
    alertId: `${t.rule}/${t.cameraId}${t.zone === null ? '' : `/${t.zone}`}@${t.startedAt}`,
    rule: t.rule,
    type: t.type,
    state: t.state,
    camera: { id: t.cameraId, name: t.cameraName },
    zone: t.zone,
    value: t.value,
    threshold: t.threshold,
    forSeconds: t.forSeconds,
    startedAt: new Date(t.startedAt).toISOString(),
    at: new Date(t.at).toISOString(),
  };
}
