import { BadGatewayException, HttpException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type CameraGeometry } from '@crowdlens/config';
import { LOGGER } from '@crowdlens/common';
import type { Logger } from 'pino';
import { IngestForwarding } from '../live-view/ingest-forwarding';
import type { CameraGeometryDto } from '../dtos/camera-geometry.dto';

const FETCH_TIMEOUT_MS = 5000;

export interface GeometryProxyRequest {
  readonly cameraId: string;
  /** The caller's credentials: the ingest process checks the role again. */
  readonly credentials: Readonly<Record<string, string | undefined>>;
  /** Already forwarded once: answered here or not at all, so two processes never forward to each other. */
  readonly proxied: boolean;
}

/**
 * A camera's lines and zones, read and changed from an analytics process in
 * the distributed mode. They live in the ingest process that reads the camera
 * (crossings are computed there), so the request goes to the ingest processes
 * of liveView.ingestUrls, the one that answered for the camera last first.
 * The ingest process's own answer (200, 400 with its reason, 403) comes back
 * as it is; a camera no reachable ingest process knows is a 404 only when
 * every one of them answered, else a 502 naming the ones that did not.
 */
@Injectable()
export class GeometryProxyService {
  private readonly ingest: IngestForwarding;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.ingest = new IngestForwarding(config.liveView.ingestUrls);
  }

  get(req: GeometryProxyRequest): Promise<CameraGeometryDto> {
    return this.forward(req, 'GET');
  }

  put(req: GeometryProxyRequest, geometry: CameraGeometry): Promise<CameraGeometryDto> {
    return this.forward(req, 'PUT', geometry);
  }

  private async forward(req: GeometryProxyRequest, method: 'GET' | 'PUT', body?: CameraGeometry) {
    if (req.proxied)
      throw new NotFoundException(`camera "${req.cameraId}": lines and zones are not kept in this process`);
    if (this.config.liveView.ingestUrls.length === 0)
      throw new BadGatewayException(
        'lines and zones live in the ingest processes, and liveView.ingestUrls lists none for this analytics process',
      );
    const headers = IngestForwarding.headers(req.credentials);
    if (body) headers['content-type'] = 'application/json';
    const unreachable: string[] = [];
    for (const base of this.ingest.candidates(req.cameraId)) {
      const url = `${base}/api/admin/cameras/${encodeURIComponent(req.cameraId)}/geometry`;
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers,
          ...(body ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        });
      } catch (err) {
        const reason = `${base}: ${describeFetchError(err)}`;
        unreachable.push(reason);
        this.logger.warn({ cameraId: req.cameraId, ingest: base, err: String(err) }, 'geometry: ingest not reachable');
        continue;
      }
      if (res.status === 404) {
        await res.body?.cancel();
        continue; // another ingest process (shard) may read this camera
      }
      const answer: unknown = await res.json().catch(() => undefined);
      if (answer === undefined)
        throw new BadGatewayException(
          `${base} answered ${res.status} without a JSON body for camera "${req.cameraId}"`,
        );
      if (!res.ok) throw new HttpException(answer as Record<string, unknown>, res.status);
      this.ingest.answered(req.cameraId, base);
      return answer as CameraGeometryDto;
    }
    if (unreachable.length > 0)
      throw new BadGatewayException(
        `camera "${req.cameraId}": no reachable ingest process reads it, and ${unreachable.length} did not answer (${unreachable.join('; ')})`,
      );
    throw new NotFoundException(`camera "${req.cameraId}" is not read by any ingest process`);
  }
}

/** "connection refused" rather than "fetch failed": the cause is what an operator can act on. */
function describeFetchError(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${FETCH_TIMEOUT_MS} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN') return 'host not found';
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}
