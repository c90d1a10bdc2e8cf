/**
 * Wire format of `application/x-crowdlens-binary` topics (face crops): the
 * JPEG travels as raw bytes instead of base64 inside JSON (a third larger and
 * a decode per message).
 *
 *   [u32 BE header length][header: UTF-8 JSON][blob 0 bytes][blob 1 bytes]...
 *   header = { "value": { every non-binary top-level field }, "blobs": [["jpeg", 18342], ...] }
 *
 * Only top-level Uint8Array fields are carried as blobs; the topic schema is
 * checked after decoding, so anything else is caught there.
 */

export const BINARY_CODEC_VERSION = 1;

/** The message is not a well-formed binary frame; the reason says why. */
export class BinaryCodecError extends Error {
  override readonly name = 'BinaryCodecError';
}

interface BinaryHeader {
  readonly v: number;
  readonly value: Record<string, unknown>;
  readonly blobs: ReadonlyArray<readonly [string, number]>;
}

export function encodeBinary(value: Record<string, unknown>): Buffer {
  const fields: Record<string, unknown> = {};
  const blobs: Array<[string, number]> = [];
  const parts: Uint8Array[] = [];
  for (const [name, field] of Object.entries(value)) {
    if (field instanceof Uint8Array) {
      blobs.push([name, field.byteLength]);
      parts.push(field);
    } else {
      fields[name] = field;
    }
  }
  const header: BinaryHeader = { v: BINARY_CODEC_VERSION, value: fields, blobs };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(headerBytes.byteLength, 0);
  return Buffer.concat([prefix, headerBytes, ...parts]);
}

/** The non-binary fields only: what a dead letter may keep of a crop (never the image). */
export function decodeBinaryHeader(frame: Buffer): {
  fields: Record<string, unknown>;
  blobs: BinaryHeader['blobs'];
  bodyStart: number;
} {
  if (frame.byteLength < 4) throw new BinaryCodecError(`frame of ${frame.byteLength} bytes has no header length`);
  const headerLength = frame.readUInt32BE(0);
  if (4 + headerLength > frame.byteLength) {
    throw new BinaryCodecError(`header length ${headerLength} exceeds frame of ${frame.byteLength} bytes`);
  }
  let header: unknown;
  try {
    header = JSON.parse(frame.subarray(4, 4 + headerLength).toString('utf8'));
  } catch (err) {
    throw new BinaryCodecError(`header is not JSON: ${(err as Error).message}`);
  }
  if (!isHeader(header)) throw new BinaryCodecError('header lacks v/value/blobs');
  if (header.v !== BINARY_CODEC_VERSION) {
    throw new BinaryCodecError(`codec version ${header.v}, expected ${BINARY_CODEC_VERSION}`);
  }
  return { fields: header.value, blobs: header.blobs, bodyStart: 4 + headerLength };
}

export function decodeBinary(frame: Buffer): Record<string, unknown> {
  const { fields, blobs, bodyStart } = decodeBinaryHeader(frame);
  const value: Record<string, unknown> = { ...fields };
  let at = bodyStart;
  for (const [name, length] of blobs) {
    if (at + length > frame.byteLength) {
      throw new BinaryCodecError(`blob ${name} (${length} bytes) runs past the end of the frame`);
    }
    // A copy, not a view: a handler that keeps the crop must not pin the whole fetch buffer.
    value[name] = new Uint8Array(frame.subarray(at, at + length));
    at += length;
  }
  if (at !== frame.byteLength) {
    throw new BinaryCodecError(`${frame.byteLength - at} trailing bytes after the last blob`);
  }
  return value;
}

function isHeader(h: unknown): h is BinaryHeader {
  if (typeof h !== 'object' || h === null) return false;
  const { v, value, blobs } = h as Record<string, unknown>;
  return (
    typeof v === 'number' &&
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Array.isArray(blobs) &&
    blobs.every(
      (b) =>
        Array.isArray(b) &&
        b.length === 2 &&
        typeof b[0] === 'string' &&
        Number.isInteger(b[1]) &&
        (b[1] as number) >= 0,
    )
  );
}
