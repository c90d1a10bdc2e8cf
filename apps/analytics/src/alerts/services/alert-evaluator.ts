/**
 * The alert rules as a pure function of what analytics knows now (camera
 * statuses, zone occupancy) and of time: each call to `evaluate` returns
 * the alerts that start firing and those that resolve. An alert fires once
 * while its condition holds (for `forSeconds`), however many evaluations see
 * it, and resolves once when the condition clears. State is kept per rule ×
 * camera (× zone) only while a condition holds, so memory follows what is
 * wrong now, not history.
 */
import type { AlertRule, AlertRuleType } from '@crowdlens/config';
import type { Clock } from '@crowdlens/runtime';
import type { CameraStatus } from '@crowdlens/contracts';

/** People inside one zone now; null when withheld (1 to k − 1 people). */
export interface ZoneReading {
  readonly cameraId: string;
  readonly name: string;
  readonly inside: number | null;
}

export type AlertValue = number | string | null;

export interface AlertSubject {
  readonly rule: string;
  readonly type: AlertRuleType;
  readonly cameraId: string;
  readonly cameraName: string;
  /** The zone, for zone-occupancy rules; null otherwise. */
  readonly zone: string | null;
  /** The rule's limit (people, ms); null for camera-down and camera-stalled, whose limit is forSeconds. */
  readonly threshold: number | null;
  readonly forSeconds: number;
}

/** An alert that fires now or resolves now. */
export interface AlertTransition extends AlertSubject {
  readonly state: 'firing' | 'resolved';
  /** What was measured now: the camera's state, the people inside, the latency in ms. */
  readonly value: AlertValue;
  /** Wall clock, epoch ms: when the condition began to hold. */
  readonly startedAt: number;
  /** Wall clock, epoch ms: this evaluation. */
  readonly at: number;
}

/** An alert firing now, for GET /api/alerts. */
export interface FiringAlert extends AlertSubject {
  readonly value: AlertValue;
  readonly startedAt: number;
  /** Wall clock, epoch ms: when it fired (startedAt + forSeconds, give or take an evaluation interval). */
  readonly firedAt: number;
}

export interface AlertEvaluatorOptions {
  /** A streaming camera not heard from for this long counts as down (its ingest stopped reporting). */
  readonly statusStaleMs: number;
}

/**
 * holds: true = the condition holds, false = it does not, undefined = not known now (leave the alert as it is).
 * run: for conditions seen only in snapshots, a mark that changes when the condition was broken between two
 * evaluations (a camera's frame count: frames arrived, so it streamed in between, however briefly).
 */
type Condition = { readonly holds: boolean | undefined; readonly value: AlertValue; readonly run?: number };

interface Held {
  readonly subject: AlertSubject;
  /** Monotonic ms when the condition began to hold: `forSeconds` is measured from here. */
  readonly sinceMono: number;
  readonly startedAt: number;
  readonly run: number | undefined;
  firedAt: number | null;
  value: AlertValue;
}

interface Heard {
  readonly updatedAt: number;
  readonly state: CameraStatus['state'];
  readonly atMono: number;
}

const DOWN_STATES: ReadonlySet<string> = new Set(['connecting', 'backoff', 'failed']);
const STALLED_STATES: ReadonlySet<string> = new Set(['backoff', 'failed']);
/** A streaming camera whose ingest has gone quiet: shown as the value of camera-down. */
export const SILENT_STATE = 'silent';

export class AlertEvaluator {
  private readonly held = new Map<string, Held>();
  /** When each camera's status last changed, by this process's monotonic clock (ingest's clock may differ). */
  private readonly heard = new Map<string, Heard>();

  constructor(
    private readonly rules: readonly AlertRule[],
    private readonly opts: AlertEvaluatorOptions,
    private readonly clock: Clock,
  ) {}

  /**
   * One evaluation. `zones` null = occupancy could not be read this time: zone alerts stay as they are.
   * Returns what fires and what resolves now, firing before resolved in rule order.
   */
  evaluate(statuses: readonly CameraStatus[], zones: readonly ZoneReading[] | null): AlertTransition[] {
    const nowMono = this.clock.monotonicMs();
    const nowWall = this.clock.now();
    this.noteHeard(statuses, nowMono);
    const seen = new Set<string>();
    const out: AlertTransition[] = [];
    const names = new Map(statuses.map((s) => [s.cameraId, s.name]));

    for (const rule of this.rules) {
      const watches = (cameraId: string) => !rule.cameras || rule.cameras.includes(cameraId);
      if (rule.type === 'zone-occupancy') {
        if (zones === null) {
          for (const [key, h] of this.held) if (h.subject.rule === rule.name) seen.add(key);
          continue;
        }
        for (const z of zones) {
          if (!watches(z.cameraId) || (rule.zone !== undefined && rule.zone !== z.name)) continue;
          const subject = this.subjectOf(rule, z.cameraId, names.get(z.cameraId) ?? z.cameraId, z.name);
          const cond = { holds: z.inside !== null && z.inside > rule.above, value: z.inside };
          this.step(subject, cond, nowMono, nowWall, seen, out);
        }
        continue;
      }
      for (const s of statuses) {
        if (!watches(s.cameraId)) continue;
        const subject = this.subjectOf(rule, s.cameraId, s.name, null);
        this.step(subject, this.cameraCondition(rule, s, nowMono), nowMono, nowWall, seen, out);
      }
    }
    // A camera or zone that is no longer reported: its alerts end.
    for (const [key, h] of this.held) {
      if (seen.has(key)) continue;
      this.held.delete(key);
      if (h.firedAt !== null)
        out.push({ ...h.subject, state: 'resolved', value: null, startedAt: h.startedAt, at: nowWall });
    }
    return out;
  }

  /** Alerts firing now, oldest first. */
  firing(): FiringAlert[] {
    const list: FiringAlert[] = [];
    for (const h of this.held.values())
      if (h.firedAt !== null) list.push({ ...h.subject, value: h.value, startedAt: h.startedAt, firedAt: h.firedAt });
    return list.sort((a, b) => a.firedAt - b.firedAt || a.rule.localeCompare(b.rule));
  }

  /** Conditions that hold now, firing or still waiting out forSeconds: what this evaluator remembers. */
  get heldCount(): number {
    return this.held.size;
  }

  private step(
    subject: AlertSubject,
    cond: Condition,
    nowMono: number,
    nowWall: number,
    seen: Set<string>,
    out: AlertTransition[],
  ): void {
    const key = JSON.stringify([subject.rule, subject.cameraId, subject.zone]);
    let h = this.held.get(key);
    if (cond.holds === undefined) {
      if (h) seen.add(key);
      return;
    }
    // The camera streamed between two evaluations: the condition held before and holds again, but it
    // was broken in between, so that outage is over and this one starts now (and waits out forSeconds).
    const broken = h !== undefined && cond.holds && h.run !== cond.run;
    if (!cond.holds || broken) {
      if (!h) return;
      this.held.delete(key);
      // Only camera conditions carry a run mark, and a changed one means frames came in.
      const value = broken ? 'streaming' : cond.value;
      if (h.firedAt !== null) out.push({ ...h.subject, state: 'resolved', value, startedAt: h.startedAt, at: nowWall });
      if (!cond.holds) return;
      h = undefined;
    }
    seen.add(key);
    const state = h ?? {
      subject,
      sinceMono: nowMono,
      startedAt: nowWall,
      run: cond.run,
      firedAt: null,
      value: cond.value,
    };
    if (!h) this.held.set(key, state);
    state.value = cond.value;
    if (state.firedAt === null && nowMono - state.sinceMono >= subject.forSeconds * 1000) {
      state.firedAt = nowWall;
      out.push({ ...state.subject, state: 'firing', value: cond.value, startedAt: state.startedAt, at: nowWall });
    }
  }

  private cameraCondition(rule: AlertRule, s: CameraStatus, nowMono: number): Condition {
    switch (rule.type) {
      case 'camera-down': {
        if (DOWN_STATES.has(s.state)) return { holds: true, value: s.state, run: s.framesIn };
        if (s.state === 'streaming' && this.isSilent(s.cameraId, nowMono))
          return { holds: true, value: SILENT_STATE, run: s.framesIn };
        return { holds: false, value: s.state };
      }
      case 'camera-stalled':
        return { holds: STALLED_STATES.has(s.state), value: s.state, run: s.framesIn };
      case 'detector-latency':
        // Latency is only measured while frames flow: a camera that is down says nothing about its detector.
        if (s.state !== 'streaming' || s.detectMsRecent === undefined) return { holds: undefined, value: null };
        return { holds: s.detectMsRecent > rule.aboveMs, value: s.detectMsRecent };
      case 'zone-occupancy':
        return { holds: undefined, value: null };
    }
  }

  private subjectOf(rule: AlertRule, cameraId: string, cameraName: string, zone: string | null): AlertSubject {
    const threshold =
      rule.type === 'zone-occupancy' ? rule.above : rule.type === 'detector-latency' ? rule.aboveMs : null;
    return { rule: rule.name, type: rule.type, cameraId, cameraName, zone, threshold, forSeconds: rule.forSeconds };
  }

  private noteHeard(statuses: readonly CameraStatus[], nowMono: number): void {
    const present = new Set<string>();
    for (const s of statuses) {
      present.add(s.cameraId);
      const last = this.heard.get(s.cameraId);
      if (!last || last.updatedAt !== s.updatedAt || last.state !== s.state)
        this.heard.set(s.cameraId, { updatedAt: s.updatedAt, state: s.state, atMono: nowMono });
    }
    for (const id of this.heard.keys()) if (!present.has(id)) this.heard.delete(id);
  }

  /** A streaming camera reports every few seconds (ingest's heartbeat): silence means its ingest is gone. */
  private isSilent(cameraId: string, nowMono: number): boolean {
    const last = this.heard.get(cameraId);
    return last !== undefined && nowMono - last.atMono >= this.opts.statusStaleMs;
  }
}
