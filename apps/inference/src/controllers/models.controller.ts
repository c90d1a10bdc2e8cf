import { Controller, Get } from '@nestjs/common';
import { RequireRole } from '@crowdlens/common';
import type { ModelsResponse } from '../dtos/active-model.dto';
import { ActiveModelService } from '../services/active-model.service';

@Controller('api/models')
export class ModelsController {
  constructor(private readonly models: ActiveModelService) {}

  @Get()
  @RequireRole('viewer')
  active(): ModelsResponse {
    return { active: this.models.describe() };
  }
}
