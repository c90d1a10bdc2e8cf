/**
 * Scores a counting run against a hand-made ground truth
 * (test/fixtures/counting/*.json). The truth gives each person's appearances
 * as time intervals, not boxes, so tracks are matched to appearances in time
 * only (optimal assignment on temporal IoU): good enough to tell a count that
 * is right from one that is right by accident, not to count ID switches.
 */
import { readFileSync } from 'node:fs';
import type { TrackEvent } from '@crowdlens/contracts';
import { solveAssignment } from '@crowdlens/vision';

export interface TruthAppearance {
  readonly enterS: number;
  readonly exitS: number;
  readonly enterEdge: string;
  readonly exitEdge: string;
  readonly doubtful: boolean;
  readonly notes?: string;
}

export interface GroundTruth {
  readonly clip: string;
  readonly sha256: string;
  readonly durationS: number;
  readonly distinctPeople: number;
  readonly appearances: number;
  readonly doubtfulAppearances: number;
  readonly people: readonly { readonly id: string; readonly appearances: readonly TruthAppearance[] }[];
  readonly inViewCounts: readonly {
    readonly t: number;
    readonly count: number;
    readonly countExcludingDoubtful?: number;
  }[];
}

export function loadGroundTruth(path: string): GroundTruth {
  return JSON.parse(readFileSync(path, 'utf8')) as GroundTruth;
}

/** A track on the clip's clock, seconds. */
export interface TrackSpan {
  readonly trackId: string;
  readonly startS: number;
  readonly endS: number;
}

/** Each track's final lifetime (its ended event), on the clip's clock (t0 = first frame). */
export function trackSpans(events: readonly TrackEvent[], t0: number): TrackSpan[] {
  return events
    .filter((e) => e.kind === 'ended')
    .map((e) => ({ trackId: e.trackId, startS: (e.firstSeenTs - t0) / 1000, endS: (e.lastSeenTs - t0) / 1000 }))
    .sort((a, b) => a.startS - b.startS);
}

export interface CountingScore {
  readonly visitors: number;
  /** Appearances in the truth: sure ones, and sure + doubtful. */
  readonly trueAppearances: number;
  readonly trueAppearancesWithDoubtful: number;
  readonly distinctPeople: number;
  /** visitors / true appearances − 1; 0 when the count falls between the sure and the doubtful-inclusive truth. */
  readonly countError: number;
  /** Tracks matched to an appearance in time / tracks. */
  readonly precision: number;
  /** Appearances matched by a track / appearances (sure ones). */
  readonly recall: number;
  /** Tracks per true appearance (1 = no fragmentation). */
  readonly tracksPerAppearance: number;
  /** Mean |tracks alive − people in view| at the truth's spot checks. */
  readonly occupancyMae: number;
  /** Mean matched track duration / mean matched appearance duration. */
  readonly dwellRatio: number;
}

const MIN_TEMPORAL_IOU = 0.5;

function temporalIou(a: { s: number; e: number }, b: { s: number; e: number }): number {
  const inter = Math.max(0, Math.min(a.e, b.e) - Math.max(a.s, b.s));
  const union = Math.max(a.e, b.e) - Math.min(a.s, b.s);
  return union > 0 ? inter / union : 0;
}

export function scoreCounting(truth: GroundTruth, tracks: readonly TrackSpan[]): CountingScore {
  const all = truth.people.flatMap((p) => p.appearances);
  const sure = all.filter((a) => !a.doubtful);
  const visitors = tracks.length;
  const low = sure.length;
  const high = all.length;
  const countError = visitors < low ? visitors / low - 1 : visitors > high ? visitors / high - 1 : 0;

  const cost = tracks.map((t) =>
    sure.map((a) => {
      const overlap = temporalIou({ s: t.startS, e: t.endS }, { s: a.enterS, e: a.exitS });
      return overlap >= MIN_TEMPORAL_IOU ? 1 - overlap : Number.POSITIVE_INFINITY;
    }),
  );
  const pairs = solveAssignment(cost);
  let trackDur = 0;
  let truthDur = 0;
  for (const [ti, ai] of pairs) {
    const t = tracks[ti] as TrackSpan;
    const a = sure[ai] as TruthAppearance;
    trackDur += t.endS - t.startS;
    truthDur += a.exitS - a.enterS;
  }
  const checks = truth.inViewCounts;
  const occupancyMae =
    checks.reduce((sum, c) => {
      const alive = tracks.filter((t) => t.startS <= c.t && t.endS >= c.t).length;
      return sum + Math.abs(alive - (c.countExcludingDoubtful ?? c.count));
    }, 0) / Math.max(1, checks.length);
  return {
    visitors,
    trueAppearances: low,
    trueAppearancesWithDoubtful: high,
    distinctPeople: truth.distinctPeople,
    countError,
    precision: visitors > 0 ? pairs.length / visitors : 0,
    recall: low > 0 ? pairs.length / low : 0,
    tracksPerAppearance: low > 0 ? visitors / low : 0,
    occupancyMae,
    dwellRatio: truthDur > 0 ? trackDur / truthDur : 0,
  };
}
