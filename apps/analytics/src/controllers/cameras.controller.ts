import { Controller, Get } from '@nestjs/common';
import type { CameraStatus } from '@crowdlens/contracts';
import { RequireRole } from '@crowdlens/common';
import { CameraRegistry } from '../services/camera-registry.service';

@Controller('api/cameras')
export class CamerasController {
  constructor(private readonly cameras: CameraRegistry) {}

  /** Camera health; URLs are redacted before they ever reach the registry. */
  @Get()
  @RequireRole('operator')
  list(): { cameras: CameraStatus[] } {
    return { cameras: this.cameras.list() };
  }
}
