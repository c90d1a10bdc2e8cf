import type { VotedGender } from '../aggregate-store.port';

/** One person as the store keeps them: lifetime, face-size and frame counts, vote evidence. */
export interface Track {
  readonly firstTs: number;
  readonly lastTs: number;
  readonly crops: number;
  readonly sumProbMale: number;
  readonly vote: VotedGender;
  readonly frames: number;
  readonly largestFacePx: number;
  readonly ended: boolean;
  readonly endReason: string | null;
  readonly unit: string | null;
}

/** A track nobody has seen a face of yet: a visitor of unknown gender. */
export const NEW_TRACK: Track = {
  firstTs: 0,
  lastTs: 0,
  crops: 0,
  sumProbMale: 0,
  vote: 'unknown',
  frames: 0,
  largestFacePx: 0,
  ended: false,
  endReason: null,
  unit: null,
};
