import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { RequireRole, ZodValidationPipe } from '@crowdlens/common';
import { AddCameraSchema, CameraIdParamSchema, type AddCameraDto, type AdminCameraDto } from '../dtos/admin-camera.dto';
import { IngestService } from '../services/ingest.service';

/**
 * Cameras of this ingest process, changed at runtime. Changes are saved in
 * `<dataDir>/cameras.json` (`cameras.shard-<index>.json` with `ingest.shard`)
 * and survive a restart (see RuntimeCamerasStore).
 */
@Controller('api/admin/cameras')
export class AdminCamerasController {
  constructor(private readonly ingest: IngestService) {}

  @Get()
  @RequireRole('operator')
  list(): { shard: { index: number; count: number }; cameras: AdminCameraDto[] } {
    return { shard: this.ingest.shardInfo(), cameras: this.ingest.cameraDetails() };
  }

  /** 201 with the new camera's status; 409 when the id is taken; 400 for a bad body or URL scheme. */
  @Post()
  @RequireRole('admin')
  add(@Body(new ZodValidationPipe(AddCameraSchema)) body: AddCameraDto): Promise<AdminCameraDto> {
    return this.ingest.addCamera(body);
  }

  /** 204 once the camera's ffmpeg child has exited; 404 for an unknown id. */
  @Delete(':id')
  @RequireRole('admin')
  @HttpCode(204)
  async remove(@Param('id', new ZodValidationPipe(CameraIdParamSchema)) id: string): Promise<void> {
    await this.ingest.removeCamera(id);
  }
}
