import { describe, expect, it } from 'vitest';
import { ProtoWriter } from './protobuf-writer';

const hex = (w: ProtoWriter) => Buffer.from(w.finish()).toString('hex');

describe('ProtoWriter (protobuf wire format)', () => {
  it('encodes varints as the protobuf documentation does', () => {
    // The spec's own example: field 1, value 150 -> 08 96 01.
    expect(hex(new ProtoWriter().int(1, 150))).toBe('089601');
    // Negative int64 is its 64-bit two's complement: ten bytes.
    expect(hex(new ProtoWriter().int(1, -1))).toBe('08ffffffffffffffffff01');
    expect(hex(new ProtoWriter().ints(3, [1, 2]))).toBe('18011802');
  });

  it('length-prefixes strings, bytes and nested messages', () => {
    // The spec's example: field 2, "testing".
    expect(hex(new ProtoWriter().string(2, 'testing'))).toBe('120774657374696e67');
    // Field 3 holding a message with field 1 = 150: 1a 03 08 96 01.
    expect(hex(new ProtoWriter().message(3, (m) => m.int(1, 150)))).toBe('1a03089601');
    const deep = new ProtoWriter().message(1, (a) => a.message(2, (b) => b.bytes(3, new Uint8Array(200))));
    const out = deep.finish();
    // 200 bytes need a two-byte length at each level: 1 + 2 + (1 + 2 + (1 + 2 + 200)).
    expect(out.length).toBe(209);
  });

  it('writes little-endian float32 as fixed32', () => {
    expect(hex(new ProtoWriter().float(2, 1))).toBe('150000803f');
  });
});
