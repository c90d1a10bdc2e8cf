import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { tfjsRuntime } from '@crowdlens/runtime';
import { FaceApiGenderClassifier } from './faceapi-gender-classifier';

const demo = (n: number) => join(require.resolve('@vladmandic/face-api/package.json'), `../demo/sample${n}.jpg`);

async function crop(file: string, left: number, top: number, size: number) {
  const { data, info } = await sharp(file)
    .extract({ left, top, width: size, height: size })
    .resize(224, 224)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** face-api's typings omit tf.memory(), which every backend has. */
const tensorCount = (faceapi: unknown): number =>
  (faceapi as { tf: { memory(): { numTensors: number } } }).tf.memory().numTensors;

describe('FaceApiGenderClassifier (real weights)', () => {
  it('classifies a batch in one call, same answers as one by one, and leaks no tensors', async () => {
    const classifier = new FaceApiGenderClassifier();
    await classifier.load();
    const images = [
      await crop(demo(1), 700, 200, 400),
      await crop(demo(2), 600, 200, 500),
      await crop(demo(3), 100, 100, 600),
    ];
    const { faceapi } = await tfjsRuntime();
    const before = tensorCount(faceapi);
    const batch = await classifier.classify(images);
    const single = await Promise.all(images.map(async (img) => (await classifier.classify([img]))[0]!));
    expect(tensorCount(faceapi)).toBe(before);
    expect(batch).toHaveLength(3);
    batch.forEach((score, i) => {
      expect(score.probMale).toBeGreaterThanOrEqual(0);
      expect(score.probMale).toBeLessThanOrEqual(1);
      expect(score.probMale).toBeCloseTo(single[i]!.probMale, 4);
    });
    expect(classifier.info.runtime).toMatch(/^tfjs/);
    await classifier.close();
  });

  it('refuses a malformed image with a reason', async () => {
    const classifier = new FaceApiGenderClassifier();
    await classifier.load();
    await expect(classifier.classify([{ width: 224, height: 224, data: new Uint8Array(10) }])).rejects.toThrow(
      /not 224x224 RGB/,
    );
  });
});
