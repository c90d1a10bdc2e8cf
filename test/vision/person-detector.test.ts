import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelChecksumError, NANODET_PERSON_DEFAULTS, OnnxNanodetPersonDetector, type Frame } from '@crowdlens/vision';
import { defaultNanodetModelPath } from '../../libs/vision/src/detection/person/nanodet-model-file';
import type { PersonDetection } from '../../libs/vision/src/detection/person-detector.port';
import { vtestFrame } from '../../bench/person-detector/vtest-frames';
import { scoreFrame, VTEST_PEOPLE } from '../../bench/person-detector/vtest-people';
import { sampleFrames } from '../support/sample-frames';

function expectInsideFrame(people: readonly PersonDetection[], frame: Frame, minScore: number): void {
  for (const { box, score } of people) {
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.width).toBeGreaterThan(0);
    expect(box.height).toBeGreaterThan(0);
    expect(box.x + box.width).toBeLessThanOrEqual(frame.width);
    expect(box.y + box.height).toBeLessThanOrEqual(frame.height);
    expect(score).toBeGreaterThanOrEqual(minScore);
    expect(score).toBeLessThanOrEqual(1);
  }
}

describe('NanoDet-g person detector on real elevated CCTV (vtest.avi, 640x480)', () => {
  const detector = new OnnxNanodetPersonDetector();
  let frames: Frame[] = [];

  beforeAll(async () => {
    frames = VTEST_PEOPLE.map((f, i) => vtestFrame(f.seconds, i));
    await detector.load();
  });
  afterAll(() => detector.close());

  it('finds the hand-labelled people, with few false positives, at the default settings', async () => {
    let found = 0;
    let labelled = 0;
    let falsePositives = 0;
    for (const [i, f] of frames.entries()) {
      const label = VTEST_PEOPLE[i]!;
      const people = await detector.detect(f);
      const s = scoreFrame(label, people);
      found += s.found;
      labelled += s.labelled;
      falsePositives += s.falsePositives;
      // No frame may lose more than one person: a miss is a partial occlusion, not a blind spot.
      expect(s.found, `vtest at ${label.seconds}s`).toBeGreaterThanOrEqual(s.labelled - 1);
      expectInsideFrame(people, f, NANODET_PERSON_DEFAULTS.minScore);
    }
    expect(labelled).toBe(65);
    expect(found / labelled).toBeGreaterThanOrEqual(0.9);
    expect(falsePositives).toBeLessThanOrEqual(2);
  });

  it('finds people at the other benchmarked input sizes too', async () => {
    for (const inputSize of [320, 640]) {
      const d = new OnnxNanodetPersonDetector({ inputSize });
      await d.load();
      try {
        let found = 0;
        for (const [i, f] of frames.entries()) found += scoreFrame(VTEST_PEOPLE[i]!, await d.detect(f)).found;
        expect(found, `input ${inputSize}`).toBeGreaterThanOrEqual(inputSize === 320 ? 55 : 60);
      } finally {
        await d.close();
      }
    }
  });

  it('gives each of several overlapping calls its own frame’s people (cameras sharing one detector)', async () => {
    const some = frames.slice(0, 6);
    const sequential = [];
    for (const f of some) sequential.push(await detector.detect(f));
    const overlapping = await Promise.all(some.map((f) => detector.detect(f)));
    expect(overlapping).toEqual(sequential);
  });

  it('finds nobody in empty synthetic frames', async () => {
    const width = 640;
    const height = 480;
    const grey = Buffer.alloc(width * height * 3, 128);
    const gradient = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) gradient.fill((x + y) % 256, (y * width + x) * 3, (y * width + x) * 3 + 3);
    for (const data of [grey, gradient, Buffer.alloc(width * height * 3)]) {
      expect(await detector.detect({ data, width, height, ts: 0, monoTs: 0, seq: 0 })).toEqual([]);
    }
  });

  it('finds the person in close-up upper-body photos (assets/sample.mp4, 640x360)', async () => {
    // Seconds 10-12 of the sample pan over two women photographed from the waist up.
    const portraits = (await sampleFrames(640)).slice(10, 13);
    expect(portraits).toHaveLength(3);
    for (const f of portraits) {
      const people = await detector.detect(f);
      expectInsideFrame(people, f, NANODET_PERSON_DEFAULTS.minScore);
      expect(people.some((p) => p.box.height > 0.6 * f.height)).toBe(true);
    }
  });

  it('rejects a frame whose buffer does not match its size', async () => {
    const f = frames[0]!;
    await expect(detector.detect({ ...f, width: f.width + 1 })).rejects.toThrow(/expected/);
  });
});

describe('the committed NanoDet-g model file', () => {
  const modelPath = defaultNanodetModelPath();
  const manifestPath = join(dirname(modelPath), 'manifest.json');

  it('matches the sha256 in its manifest and its .sha256 file', () => {
    const sha = createHash('sha256').update(readFileSync(modelPath)).digest('hex');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { sha256: string; licence: string };
    expect(manifest.sha256).toBe(sha);
    expect(manifest.licence).toBe('Apache-2.0');
    expect(readFileSync(`${modelPath}.sha256`, 'utf8').split(/\s+/)[0]).toBe(sha);
  });

  it('is refused, with the path and both checksums named, when a copy is tampered with', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-nanodet-'));
    try {
      const copy = join(dir, 'nanodet-g.onnx');
      copyFileSync(manifestPath, join(dir, 'manifest.json'));
      const bytes = readFileSync(modelPath);
      bytes[bytes.length - 100] ^= 0x01; // one bit of one weight
      writeFileSync(copy, bytes);
      const d = new OnnxNanodetPersonDetector({ modelPath: copy });
      const err = await d.load().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ModelChecksumError);
      expect((err as ModelChecksumError).message).toContain(copy);
      expect((err as ModelChecksumError).actual).not.toBe((err as ModelChecksumError).expected);
      await expect(d.detect(vtestFrame(2))).rejects.toThrow(/before load/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
