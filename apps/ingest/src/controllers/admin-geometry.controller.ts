import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { RequireRole, ZodValidationPipe } from '@crowdlens/common';
import { CameraIdParamSchema } from '../dtos/admin-camera.dto';
import { PutGeometrySchema, type CameraGeometryDto, type PutGeometryDto } from '../dtos/camera-geometry.dto';
import { IngestService } from '../services/ingest.service';

/**
 * A camera's counting lines and zones, changed at runtime: counted from the
 * camera's next analysed frame, saved in `<dataDir>/geometry.json`, kept
 * across restarts (see RuntimeGeometryStore).
 */
@Controller('api/admin/cameras/:id/geometry')
export class AdminGeometryController {
  constructor(private readonly ingest: IngestService) {}

  @Get()
  @RequireRole('operator')
  get(@Param('id', new ZodValidationPipe(CameraIdParamSchema)) id: string): CameraGeometryDto {
    return this.ingest.geometry(id);
  }

  /** 200 with what is now in force; 400 for an invalid line or zone (the reason names it); 404 for an unknown camera. */
  @Put()
  @RequireRole('admin')
  put(
    @Param('id', new ZodValidationPipe(CameraIdParamSchema)) id: string,
    @Body(new ZodValidationPipe(PutGeometrySchema)) body: PutGeometryDto,
  ): CameraGeometryDto {
    return this.ingest.setGeometry(id, body);
  }
}
