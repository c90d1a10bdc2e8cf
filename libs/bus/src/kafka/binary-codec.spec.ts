import { describe, expect, it } from 'vitest';
import { FaceCropSchema, type FaceCrop } from '@crowdlens/contracts';
import { BinaryCodecError, decodeBinary, decodeBinaryHeader, encodeBinary } from './binary-codec';

const crop: FaceCrop = {
  schemaVersion: 1,
  cropId: 'c-1',
  cameraId: 'cam-1',
  trackId: 't-1',
  frameTs: 1_700_000_000_000,
  box: { x: 1, y: 2, width: 30, height: 40 },
  detectionScore: 0.9,
  quality: 0.7,
  width: 224,
  height: 224,
  jpeg: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 1, 2, 3, 0xff, 0xd9]),
};

describe('binary codec', () => {
  it('round-trips a crop, raw bytes included, into a schema-valid value', () => {
    const frame = encodeBinary(crop);
    // Raw bytes, not base64: the frame is header + exactly the JPEG's length.
    const { bodyStart } = decodeBinaryHeader(frame);
    expect(frame.byteLength - bodyStart).toBe(crop.jpeg.byteLength);
    const back = FaceCropSchema.parse(decodeBinary(frame));
    expect(back).toEqual(crop);
    expect(back.jpeg).toBeInstanceOf(Uint8Array);
  });

  it('keeps the image out of the header', () => {
    const { fields, blobs } = decodeBinaryHeader(encodeBinary(crop));
    expect(fields).not.toHaveProperty('jpeg');
    expect(fields).toMatchObject({ cropId: 'c-1', cameraId: 'cam-1' });
    expect(blobs).toEqual([['jpeg', 10]]);
  });

  it('rejects truncated, padded and garbage frames', () => {
    const frame = encodeBinary(crop);
    expect(() => decodeBinary(frame.subarray(0, frame.byteLength - 1))).toThrow(BinaryCodecError);
    expect(() => decodeBinary(Buffer.concat([frame, Buffer.from([0])]))).toThrow(/trailing/);
    expect(() => decodeBinary(Buffer.from('{"not":"binary"}'))).toThrow(BinaryCodecError);
    expect(() => decodeBinary(Buffer.from([0, 0]))).toThrow(/header length/);
  });
});
