import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { CameraGeometrySchema, CameraIdSchema, type CameraGeometry } from '@crowdlens/config';

const FileSchema = z
  .object({
    version: z.literal(1),
    cameras: z.record(CameraIdSchema, CameraGeometrySchema),
  })
  .strict();

export interface GeometryLoadResult {
  /** Lines and zones set through the admin API, by camera id; they replace the config file's for that camera. */
  readonly cameras: ReadonlyMap<string, CameraGeometry>;
  /** Set when the file existed but could not be used; it was moved aside to this path. */
  readonly quarantined?: { readonly path: string; readonly reason: string };
}

/**
 * Lines and zones edited at runtime, in `<dataDir>/geometry.json`: one entry
 * per camera an admin edited, which then replaces that camera's config-file
 * lines and zones, also after a restart. Written atomically (temp file +
 * rename) like the runtime cameras file.
 */
export class RuntimeGeometryStore {
  constructor(readonly path: string) {}

  load(): GeometryLoadResult {
    if (!existsSync(this.path)) return { cameras: new Map() };
    let reason: string;
    try {
      const parsed = FileSchema.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
      if (parsed.success) return { cameras: new Map(Object.entries(parsed.data.cameras)) };
      reason = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
    const aside = `${this.path}.unreadable-${Date.now()}`;
    renameSync(this.path, aside);
    return { cameras: new Map(), quarantined: { path: aside, reason } };
  }

  save(cameras: ReadonlyMap<string, CameraGeometry>): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp-${process.pid}`;
    const body = { version: 1, cameras: Object.fromEntries([...cameras].sort(([a], [b]) => a.localeCompare(b))) };
    writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
  }
}
