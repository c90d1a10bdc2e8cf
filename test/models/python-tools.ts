/**
 * Test helpers for the ResNet50 path: the Python tools venv (created by
 * scripts/python-env.sh on a fresh machine: ~2 min, ~6 GB) and real face
 * crops cut from face-api's bundled sample photo with sharp.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp, { type Sharp } from 'sharp';
import { repoRoot } from '@crowdlens/runtime';
import type { RgbImage } from '@crowdlens/models';

const run = promisify(execFile);

/** Long enough for a fresh venv (torch + CUDA wheels) on a slow link. */
export const PYTHON_ENV_TIMEOUT_MS = 20 * 60_000;

let python: Promise<string> | null = null;

/** Path of the tools venv's python, creating the venv once per test process. */
export function toolsPython(): Promise<string> {
  python ??= run(join(repoRoot(), 'scripts/python-env.sh'), [], {
    timeout: PYTHON_ENV_TIMEOUT_MS,
    maxBuffer: 64 << 20,
  }).then((r) => r.stdout.trim().split('\n').pop()!.trim());
  return python;
}

/** `python -m crowdlens_tools.<tool> ...args`; rejects with the tool's stderr on a non-zero exit. */
export async function runTool(
  tool: string,
  args: string[],
  timeoutMs = 10 * 60_000,
): Promise<{ stdout: string; stderr: string }> {
  const py = await toolsPython();
  try {
    // cwd tools/ puts crowdlens_tools on the module path without touching the environment.
    return await run(py, ['-m', `crowdlens_tools.${tool}`, ...args], {
      cwd: join(repoRoot(), 'tools'),
      timeout: timeoutMs,
      maxBuffer: 64 << 20,
    });
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`crowdlens_tools.${tool} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

export const SAMPLE_PHOTO = join(repoRoot(), 'node_modules/@vladmandic/face-api/demo/sample1.jpg');

/** The three faces in sample1.jpg (1920x1280), as [left, top, width, height]; the last is a CelebA-shaped 178x218-ratio box. */
export const FACE_BOXES: readonly (readonly [number, number, number, number])[] = [
  [360, 300, 330, 330],
  [786, 390, 300, 300],
  [1410, 165, 330, 330],
  [1420, 140, 310, 380],
];

export async function rawRgb(pipeline: Sharp): Promise<RgbImage> {
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected RGB, got ${info.channels} channels`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** 224x224 face crops, as apps/ingest makes them (sharp extract + resize). */
export async function faceCrops224(): Promise<RgbImage[]> {
  return Promise.all(
    FACE_BOXES.slice(0, 3).map(([left, top, width, height]) =>
      rawRgb(sharp(SAMPLE_PHOTO).extract({ left, top, width, height }).resize(224, 224)),
    ),
  );
}

/** A crop at another size (178x218, CelebA's), to exercise the Resize + CenterCrop path. */
export async function faceCropCelebaSize(): Promise<RgbImage> {
  const [left, top, width, height] = FACE_BOXES[3]!;
  return rawRgb(sharp(SAMPLE_PHOTO).extract({ left, top, width, height }).resize(178, 218));
}

/** Writes an RGB image as PNG (lossless: Python and TS then read the same pixels). */
export async function writePng(image: RgbImage, path: string): Promise<void> {
  await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toFile(path);
}
