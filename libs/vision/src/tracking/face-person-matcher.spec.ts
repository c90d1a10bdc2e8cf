import { describe, expect, it } from 'vitest';
import { attachFaces, bodyFromFace } from './face-person-matcher';

const frame = { width: 640, height: 480 };
const person = (x: number, y: number, w = 40, h = 110) => ({ box: { x, y, width: w, height: h }, score: 0.8 });
const face = (x: number, y: number, s = 12) => ({ box: { x, y, width: s, height: s }, score: 0.9 });

describe('attachFaces', () => {
  it('gives each face to the body whose head it is', () => {
    const subjects = attachFaces([person(100, 100), person(300, 100)], [face(314, 104), face(114, 106)], frame);
    expect(subjects).toHaveLength(2);
    expect(subjects[0]?.face?.box.x).toBe(114);
    expect(subjects[1]?.face?.box.x).toBe(314);
    expect(subjects.every((s) => !s.fromFace)).toBe(true);
  });

  it('leaves a body without a face unknown, and does not attach a face at its feet', () => {
    const subjects = attachFaces([person(100, 100)], [face(112, 190)], frame);
    expect(subjects[0]?.face).toBeNull();
    // The face at the feet is someone else (a child, a poster): a subject of its own.
    expect(subjects).toHaveLength(2);
    expect(subjects[1]?.fromFace).toBe(true);
  });

  it('resolves two bodies overlapping one face to the nearer head', () => {
    const subjects = attachFaces([person(100, 100), person(115, 95)], [face(128, 100)], frame);
    const withFace = subjects.filter((s) => s.face);
    expect(withFace).toHaveLength(1);
    expect(withFace[0]?.box.x).toBe(115);
  });

  it('makes a subject of a face no body was found for (close-ups), with a body box below it', () => {
    const subjects = attachFaces([], [face(300, 50, 80)], frame);
    expect(subjects).toHaveLength(1);
    const s = subjects[0];
    expect(s?.fromFace).toBe(true);
    expect(s?.box.y).toBeLessThanOrEqual(50);
    expect(s?.box.height).toBeGreaterThan(80);
    expect((s?.box.y ?? 0) + (s?.box.height ?? 0)).toBeLessThanOrEqual(frame.height);
  });

  it('does not attach a face wider than the body', () => {
    const subjects = attachFaces([person(100, 100, 30, 90)], [face(95, 100, 40)], frame);
    expect(subjects[0]?.face).toBeNull();
  });
});

describe('bodyFromFace', () => {
  it('is stable for the same face and stays inside the frame', () => {
    const a = bodyFromFace({ x: 600, y: 400, width: 30, height: 30 }, frame);
    expect(a).toEqual(bodyFromFace({ x: 600, y: 400, width: 30, height: 30 }, frame));
    expect(a.x + a.width).toBeLessThanOrEqual(frame.width);
    expect(a.y + a.height).toBeLessThanOrEqual(frame.height);
  });
});
