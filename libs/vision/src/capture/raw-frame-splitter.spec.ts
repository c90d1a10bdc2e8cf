import { describe, expect, it } from 'vitest';
import { RawFrameSplitter } from './raw-frame-splitter';

/** Bytes 0..n-1 mod 251 (prime, so frame boundaries never line up with the pattern). */
function stream(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

function chunked(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  let k = 0;
  while (off < data.length) {
    const n = sizes[k++ % sizes.length] as number;
    out.push(data.subarray(off, off + n));
    off += n;
  }
  return out;
}

describe('RawFrameSplitter', () => {
  const W = 7;
  const H = 5;
  const FRAME = W * H * 3; // 105 bytes

  it.each([
    ['one byte at a time', [1]],
    ['odd sizes straddling frames', [13, 250, 7, 104, 106, 1]],
    ['exactly one frame per chunk', [FRAME]],
    ['several frames per chunk', [FRAME * 3 + 2]],
  ])('reassembles exact frames: %s', (_name, sizes) => {
    const data = stream(FRAME * 9);
    const frames: Buffer[] = [];
    const s = new RawFrameSplitter((f) => frames.push(f));
    s.setFrameSize(FRAME);
    for (const c of chunked(data, sizes)) s.push(c);
    expect(frames).toHaveLength(9);
    frames.forEach((f, i) => {
      expect(f.length).toBe(FRAME);
      expect(f.equals(data.subarray(i * FRAME, (i + 1) * FRAME))).toBe(true);
    });
    expect(s.bufferedBytes).toBe(0);
  });

  it('holds back a trailing partial frame', () => {
    const frames: Buffer[] = [];
    const s = new RawFrameSplitter((f) => frames.push(f));
    s.setFrameSize(FRAME);
    s.push(stream(FRAME * 2 + 10));
    expect(frames).toHaveLength(2);
    expect(s.bufferedBytes).toBe(10);
  });

  it('gives every frame its own whole ArrayBuffer (transferable to a worker)', () => {
    const frames: Buffer[] = [];
    const s = new RawFrameSplitter((f) => frames.push(f));
    s.setFrameSize(FRAME);
    s.push(stream(FRAME * 3));
    const buffers = new Set(frames.map((f) => f.buffer));
    expect(buffers.size).toBe(3);
    for (const f of frames) {
      expect(f.byteOffset).toBe(0);
      expect(f.buffer.byteLength).toBe(FRAME);
    }
  });

  it('copies input chunks, so a reused pipe buffer cannot corrupt a frame', () => {
    const frames: Buffer[] = [];
    const s = new RawFrameSplitter((f) => frames.push(f));
    s.setFrameSize(FRAME);
    const chunk = stream(FRAME);
    s.push(chunk);
    chunk.fill(0);
    expect(frames[0]?.equals(stream(FRAME))).toBe(true);
  });

  it('holds bytes that arrive before the size is known, then emits them in order', () => {
    const data = stream(FRAME * 2 + 50);
    const frames: Buffer[] = [];
    const s = new RawFrameSplitter((f) => frames.push(f));
    const chunks = chunked(data, [60, 90]);
    s.push(chunks[0] as Buffer);
    s.push(chunks[1] as Buffer);
    expect(frames).toHaveLength(0);
    expect(s.knowsFrameSize).toBe(false);
    s.setFrameSize(FRAME);
    expect(frames).toHaveLength(1);
    for (const c of chunks.slice(2)) s.push(c);
    expect(frames).toHaveLength(2);
    expect(Buffer.concat(frames).equals(data.subarray(0, FRAME * 2))).toBe(true);
  });

  it('refuses unbounded buffering and size changes', () => {
    const s = new RawFrameSplitter(() => undefined, 100);
    expect(() => s.push(Buffer.alloc(101))).toThrow(/before the frame size was known/);
    const t = new RawFrameSplitter(() => undefined);
    t.setFrameSize(FRAME);
    t.setFrameSize(FRAME);
    expect(() => t.setFrameSize(FRAME + 3)).toThrow(/changed/);
    expect(() => new RawFrameSplitter(() => undefined).setFrameSize(0)).toThrow(RangeError);
  });
});
