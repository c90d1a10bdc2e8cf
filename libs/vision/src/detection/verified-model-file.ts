import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The model file is not the one its manifest describes: refuse it rather than detect with unknown weights. */
export class ModelChecksumError extends Error {
  constructor(
    readonly modelPath: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `model ${modelPath} has sha256 ${actual}, its manifest expects ${expected}: the file is corrupt or was ` +
        'replaced; restore it from git or regenerate it with the script its NOTICE.md names',
    );
    this.name = 'ModelChecksumError';
  }
}

/** What every committed detector model's manifest.json holds (NanoDet, RetinaFace). */
export interface DetectorManifest {
  readonly file: string;
  readonly sha256: string;
  readonly input: { readonly name: string };
}

function parseManifest(text: string, path: string): DetectorManifest {
  const m = JSON.parse(text) as Partial<DetectorManifest>;
  if (typeof m.file !== 'string' || typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) {
    throw new Error(`model manifest ${path} lacks a file name or a sha256`);
  }
  if (typeof m.input?.name !== 'string') throw new Error(`model manifest ${path} lacks input.name`);
  return m as DetectorManifest;
}

/**
 * Reads the model and the manifest.json beside it, and returns the model's
 * bytes only if their sha256 is the manifest's. The bytes go to onnxruntime
 * as they are, so what was checked is what runs.
 */
export async function readVerifiedModel(
  modelPath: string,
  manifestPath = join(dirname(modelPath), 'manifest.json'),
): Promise<{ bytes: Uint8Array; manifest: DetectorManifest }> {
  const [bytes, manifestText] = await Promise.all([readFile(modelPath), readFile(manifestPath, 'utf8')]);
  const manifest = parseManifest(manifestText, manifestPath);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== manifest.sha256) throw new ModelChecksumError(modelPath, manifest.sha256, actual);
  return { bytes, manifest };
}
