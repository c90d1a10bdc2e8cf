import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { CameraConfigSchema, type CameraConfig } from '@crowdlens/config';

/**
 * What the admin API changed relative to the config file: cameras added at
 * runtime, and ids of configured cameras removed at runtime. Kept as a delta
 * so an edit to the config file still takes effect on the next start.
 */
export interface RuntimeCameraChanges {
  readonly added: readonly CameraConfig[];
  readonly removed: readonly string[];
}

const FileSchema = z
  .object({
    version: z.literal(1),
    added: z.array(CameraConfigSchema),
    removed: z.array(z.string().min(1)),
  })
  .strict();

export const NO_CHANGES: RuntimeCameraChanges = { added: [], removed: [] };

export interface LoadResult {
  readonly changes: RuntimeCameraChanges;
  /** Set when the file existed but could not be used; it was moved aside to this path. */
  readonly quarantined?: { readonly path: string; readonly reason: string };
}

/**
 * The runtime camera changes in `<dataDir>/cameras.json`. Camera URLs may
 * carry credentials, as the config file does, so the file is private to its
 * owner (0600) and written atomically (temp file + rename): a crash mid-write
 * leaves the previous version, never half a file.
 */
export class RuntimeCamerasStore {
  constructor(readonly path: string) {}

  load(): LoadResult {
    if (!existsSync(this.path)) return { changes: NO_CHANGES };
    let reason: string;
    try {
      const parsed = FileSchema.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
      if (parsed.success) return { changes: { added: parsed.data.added, removed: parsed.data.removed } };
      reason = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
    // Keep the unusable file for a human rather than overwrite it on the next change.
    const aside = `${this.path}.unreadable-${Date.now()}`;
    renameSync(this.path, aside);
    return { changes: NO_CHANGES, quarantined: { path: aside, reason } };
  }

  save(changes: RuntimeCameraChanges): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp-${process.pid}`;
    const body = { version: 1, added: changes.added, removed: changes.removed };
    writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600); // mode only applies when the file is created
    renameSync(tmp, this.path);
  }
}

/** The cameras to run: the config file's, minus those removed at runtime, plus those added. */
export function effectiveCameras(
  configured: readonly CameraConfig[],
  changes: RuntimeCameraChanges,
): { cameras: CameraConfig[]; shadowed: string[] } {
  const removed = new Set(changes.removed);
  const cameras = configured.filter((c) => !removed.has(c.id));
  const ids = new Set(cameras.map((c) => c.id));
  // A runtime camera whose id the config file now also uses: the file wins, and the caller says so.
  const shadowed: string[] = [];
  for (const c of changes.added) {
    if (ids.has(c.id)) shadowed.push(c.id);
    else {
      cameras.push(c);
      ids.add(c.id);
    }
  }
  return { cameras, shadowed };
}

/** The delta after a camera was added at runtime. */
export function withAdded(changes: RuntimeCameraChanges, camera: CameraConfig): RuntimeCameraChanges {
  return {
    added: [...changes.added.filter((c) => c.id !== camera.id), camera],
    removed: changes.removed.filter((id) => id !== camera.id),
  };
}

/** The delta after a camera was removed at runtime; configured ids are remembered as removed. */
export function withRemoved(
  changes: RuntimeCameraChanges,
  cameraId: string,
  configured: readonly CameraConfig[],
): RuntimeCameraChanges {
  const isConfigured = configured.some((c) => c.id === cameraId);
  return {
    added: changes.added.filter((c) => c.id !== cameraId),
    removed:
      isConfigured && !changes.removed.includes(cameraId) ? [...changes.removed, cameraId] : changes.removed,
  };
}
