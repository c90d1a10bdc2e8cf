import { Inject, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import { LOGGER, type Principal } from '@crowdlens/common';
import { LiveFrames, renderSnapshot } from '@crowdlens/vision';
import type { Logger } from 'pino';
import { IngestForwarding } from './ingest-forwarding';

const FETCH_TIMEOUT_MS = 3000;

export interface SnapshotRequest {
  readonly cameraId: string;
  readonly principal: Principal | undefined;
  /** The caller's credentials, forwarded when the frame lives in another process. */
  readonly credentials: Readonly<Record<string, string | undefined>>;
  readonly proxied: boolean;
}

interface Encoded {
  readonly frameTs: number;
  readonly at: number;
  readonly jpeg: Promise<Buffer>;
}

/**
 * A camera's latest analysed frame as a JPEG, from memory. Where ingest runs
 * in this process (embedded, or an ingest process) the frame is here; an
 * analytics process asks the ingest processes listed in liveView.ingestUrls
 * and streams the answer through, keeping nothing. One JPEG per camera and
 * blur setting is cached for liveView.minIntervalMs, so ten operators
 * watching one camera cost one encode per interval.
 */
@Injectable()
export class SnapshotService {
  private readonly cache = new Map<string, Encoded>();
  private readonly ingest: IngestForwarding;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly frames: LiveFrames,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.ingest = new IngestForwarding(config.liveView.ingestUrls);
  }

  async snapshot(req: SnapshotRequest): Promise<Buffer> {
    const live = this.frames.get(req.cameraId);
    const { liveView } = this.config;
    // Unblurred only when the config allows it, and only for admins.
    const blur = liveView.blurFaces || req.principal?.role !== 'admin';
    if (live) {
      const key = `${req.cameraId}:${blur}`;
      const now = Date.now();
      const cached = this.cache.get(key);
      if (cached && (cached.frameTs === live.frame.ts || now - cached.at < liveView.minIntervalMs)) return cached.jpeg;
      const jpeg = renderSnapshot(live, { blurFaces: blur, quality: liveView.jpegQuality });
      this.cache.set(key, { frameTs: live.frame.ts, at: now, jpeg });
      jpeg.catch(() => this.cache.delete(key));
      return jpeg;
    }
    this.cache.delete(`${req.cameraId}:true`);
    this.cache.delete(`${req.cameraId}:false`);
    if (req.proxied || liveView.ingestUrls.length === 0)
      throw new NotFoundException(`camera "${req.cameraId}" has no analysed frame in this process (yet)`);
    return this.fromIngest(req);
  }

  private async fromIngest(req: SnapshotRequest): Promise<Buffer> {
    const headers = IngestForwarding.headers(req.credentials);
    let reachable = 0;
    for (const base of this.ingest.candidates(req.cameraId)) {
      const url = `${base}/api/cameras/${encodeURIComponent(req.cameraId)}/snapshot.jpg`;
      try {
        const res = await fetch(url, { headers, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
        reachable++;
        if (res.status === 200) {
          this.ingest.answered(req.cameraId, base);
          return Buffer.from(await res.arrayBuffer());
        }
        await res.body?.cancel();
      } catch (err) {
        this.logger.warn({ cameraId: req.cameraId, ingest: base, err: String(err) }, 'live view: ingest not reachable');
      }
    }
    if (reachable === 0) throw new ServiceUnavailableException('live view: no ingest process answered');
    throw new NotFoundException(`camera "${req.cameraId}" has no analysed frame in any ingest process (yet)`);
  }
}
