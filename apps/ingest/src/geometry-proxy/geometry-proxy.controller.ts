import { Body, Controller, Get, Param, Put, Req } from '@nestjs/common';
import { RequireRole, ZodValidationPipe, type AuthedRequest } from '@crowdlens/common';
import { CameraIdParamSchema } from '../dtos/admin-camera.dto';
import { PutGeometrySchema, type CameraGeometryDto, type PutGeometryDto } from '../dtos/camera-geometry.dto';
import { forwardedCredentials } from '../live-view/forwarded-credentials';
import { PROXIED_HEADER } from '../live-view/ingest-forwarding';
import { GeometryProxyService } from './geometry-proxy.service';

/**
 * The same routes as AdminGeometryController, in an analytics process of the
 * distributed mode, so the dashboard it serves can edit lines and zones. The
 * roles are checked here and again by the ingest process (the caller's own
 * credentials travel with the request).
 */
@Controller('api/admin/cameras/:id/geometry')
export class GeometryProxyController {
  constructor(private readonly proxy: GeometryProxyService) {}

  @Get()
  @RequireRole('operator')
  get(
    @Param('id', new ZodValidationPipe(CameraIdParamSchema)) id: string,
    @Req() req: AuthedRequest,
  ): Promise<CameraGeometryDto> {
    return this.proxy.get(this.request(id, req));
  }

  @Put()
  @RequireRole('admin')
  put(
    @Param('id', new ZodValidationPipe(CameraIdParamSchema)) id: string,
    @Body(new ZodValidationPipe(PutGeometrySchema)) body: PutGeometryDto,
    @Req() req: AuthedRequest,
  ): Promise<CameraGeometryDto> {
    return this.proxy.put(this.request(id, req), body);
  }

  private request(cameraId: string, req: AuthedRequest) {
    return { cameraId, credentials: forwardedCredentials(req), proxied: req.headers[PROXIED_HEADER] === '1' };
  }
}
