/** Set on a forwarded request: the ingest process answers it itself and never forwards it again. */
export const PROXIED_HEADER = 'x-crowdlens-proxied';

/**
 * Where analytics forwards a camera's request in the distributed mode: every ingest process of
 * liveView.ingestUrls, the one that last answered for the camera first (cameras are sharded, so
 * that one most likely still reads it). One per forwarding service; bounded by the cameras asked.
 */
export class IngestForwarding {
  private readonly owners = new Map<string, string>();

  private readonly bases: readonly string[];

  constructor(bases: readonly string[]) {
    this.bases = bases.map((b) => b.replace(/\/+$/, ''));
  }

  /** Base URLs to try for the camera, without trailing slashes, its last owner first. */
  candidates(cameraId: string): string[] {
    const owner = this.owners.get(cameraId);
    return owner ? [owner, ...this.bases.filter((b) => b !== owner)] : [...this.bases];
  }

  answered(cameraId: string, base: string): void {
    this.owners.set(cameraId, base);
  }

  /** The caller's credentials plus the mark that stops the ingest process forwarding again. */
  static headers(credentials: Readonly<Record<string, string | undefined>>): Record<string, string> {
    const headers: Record<string, string> = { [PROXIED_HEADER]: '1' };
    for (const [k, v] of Object.entries(credentials)) if (v) headers[k] = v;
    return headers;
  }
}
