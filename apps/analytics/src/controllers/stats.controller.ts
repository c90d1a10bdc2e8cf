import { Controller, Get, Query } from '@nestjs/common';
import { ZodValidationPipe } from '@crowdlens/common';
import { StatsQuerySchema, type StatsQueryDto } from '../dtos/stats-query.dto';
import { StatsService, type StatsResult } from '../services/stats.service';

@Controller('api/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  get(@Query(new ZodValidationPipe(StatsQuerySchema)) query: StatsQueryDto): Promise<StatsResult> {
    return this.stats.stats(query);
  }
}
