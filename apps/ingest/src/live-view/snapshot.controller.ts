import { Controller, Get, Header, Param, Req, StreamableFile } from '@nestjs/common';
import { RequireRole, ZodValidationPipe, type AuthedRequest } from '@crowdlens/common';
import { CameraIdSchema } from '@crowdlens/config';
import { forwardedCredentials } from './forwarded-credentials';
import { PROXIED_HEADER } from './ingest-forwarding';
import { SnapshotService } from './snapshot.service';

/** The live view: operators and admins only; viewers get 403 (faces, even blurred, are not aggregates). */
@Controller('api/cameras')
export class SnapshotController {
  constructor(private readonly snapshots: SnapshotService) {}

  @Get(':id/snapshot.jpg')
  @RequireRole('operator')
  @Header('Content-Type', 'image/jpeg')
  @Header('Cache-Control', 'no-store')
  async get(
    @Param('id', new ZodValidationPipe(CameraIdSchema)) id: string,
    @Req() req: AuthedRequest,
  ): Promise<StreamableFile> {
    const jpeg = await this.snapshots.snapshot({
      cameraId: id,
      principal: req.principal,
      credentials: forwardedCredentials(req),
      proxied: req.headers[PROXIED_HEADER] === '1',
    });
    return new StreamableFile(jpeg, { type: 'image/jpeg' });
  }
}
