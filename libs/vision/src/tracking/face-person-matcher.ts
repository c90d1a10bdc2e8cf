import type { Box } from '@crowdlens/contracts';
import type { FaceDetection } from '../detection/face-detector.port';
import type { PersonDetection } from '../detection/person-detector.port';
import { solveAssignment } from './assignment';
import { centerOf } from './box-math';

/** One thing to count in a frame: a person's box, and the face found on them if any. */
export interface CountedSubject {
  readonly box: Box;
  readonly score: number;
  readonly face: FaceDetection | null;
  /** The box was derived from a face the person detector did not see (close-ups, crowds). */
  readonly fromFace: boolean;
}

/** Where a head sits in a body box, as a fraction of its height from the top. */
const HEAD_Y = 0.12;
/** A face's centre must lie in the top part of the body box... */
const HEAD_REGION = 0.45;
/** ...and within the box horizontally, with this margin (fraction of the box width). */
const SIDE_MARGIN = 0.1;
/** A face wider than this share of the body box is not that body's face. */
const MAX_FACE_TO_BODY_WIDTH = 0.9;

/**
 * Attaches each face to the person whose head region it sits in (optimal
 * assignment on the distance to the expected head point), so the face's
 * prediction votes for that person. A face on nobody becomes a subject of its
 * own, with a body box guessed from the face (a close-up or a crowd where the
 * body detector saw no body): a visible face is always a person.
 */
export function attachFaces(
  people: readonly PersonDetection[],
  faces: readonly FaceDetection[],
  frame: { readonly width: number; readonly height: number },
): CountedSubject[] {
  const cost = faces.map((f) => people.map((p) => headCost(f.box, p.box)));
  const faceOf = new Map<number, FaceDetection>();
  const attached = new Set<number>();
  for (const [fi, pi] of solveAssignment(cost)) {
    faceOf.set(pi, faces[fi] as FaceDetection);
    attached.add(fi);
  }
  const subjects: CountedSubject[] = people.map((p, pi) => ({
    box: p.box,
    score: p.score,
    face: faceOf.get(pi) ?? null,
    fromFace: false,
  }));
  faces.forEach((f, fi) => {
    if (attached.has(fi)) return;
    subjects.push({ box: bodyFromFace(f.box, frame), score: f.score, face: f, fromFace: true });
  });
  return subjects;
}

/** Distance of a face to the expected head point of a body, in body sizes; Infinity when it cannot be that body's face. */
function headCost(face: Box, body: Box): number {
  const { cx, cy } = centerOf(face);
  const margin = body.width * SIDE_MARGIN;
  if (cx < body.x - margin || cx > body.x + body.width + margin) return Number.POSITIVE_INFINITY;
  if (cy < body.y - face.height / 2 || cy > body.y + body.height * HEAD_REGION) return Number.POSITIVE_INFINITY;
  if (face.width > body.width * MAX_FACE_TO_BODY_WIDTH) return Number.POSITIVE_INFINITY;
  const headX = body.x + body.width / 2;
  const headY = body.y + body.height * HEAD_Y;
  return Math.abs(cx - headX) / body.width + Math.abs(cy - headY) / body.height;
}

/**
 * A body box guessed from a face: about 2.5 faces wide and 7 tall, the face
 * near the top, clamped to the frame. The same face gives the same box, so
 * the tracker can follow such a subject from frame to frame.
 */
export function bodyFromFace(face: Box, frame: { readonly width: number; readonly height: number }): Box {
  const s = Math.max(face.width, face.height);
  const x0 = Math.max(0, face.x + face.width / 2 - 1.25 * s);
  const y0 = Math.max(0, face.y - 0.3 * s);
  const x1 = Math.min(frame.width, face.x + face.width / 2 + 1.25 * s);
  const y1 = Math.min(frame.height, face.y + 7 * s);
  return { x: x0, y: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) };
}
