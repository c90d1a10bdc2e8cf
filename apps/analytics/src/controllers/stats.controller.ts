import { Controller, Get, Header, Query } from '@nestjs/common';
import { ZodValidationPipe } from '@crowdlens/common';
import {
  DwellQuerySchema,
  GroupsQuerySchema,
  PeakHoursQuerySchema,
  StatsQuerySchema,
  type DwellQueryDto,
  type GroupsQueryDto,
  type PeakHoursQueryDto,
  type StatsQueryDto,
} from '../dtos/stats-query.dto';
import { StatsService, type GroupComparison, type StatsResult } from '../services/stats.service';

@Controller('api/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  get(@Query(new ZodValidationPipe(StatsQuerySchema)) query: StatsQueryDto): Promise<StatsResult> {
    return this.stats.stats(query);
  }

  @Get('csv')
  @Header('Content-Type', 'text/csv; charset=utf-8')
  @Header('Content-Disposition', 'attachment; filename="crowdlens-stats.csv"')
  csv(@Query(new ZodValidationPipe(StatsQuerySchema)) query: StatsQueryDto): Promise<string> {
    return this.stats.csv(query);
  }

  @Get('groups')
  groups(@Query(new ZodValidationPipe(GroupsQuerySchema)) query: GroupsQueryDto): Promise<GroupComparison> {
    return this.stats.groups(query);
  }

  @Get('groups/csv')
  @Header('Content-Type', 'text/csv; charset=utf-8')
  @Header('Content-Disposition', 'attachment; filename="crowdlens-stores.csv"')
  groupsCsv(@Query(new ZodValidationPipe(GroupsQuerySchema)) query: GroupsQueryDto): Promise<string> {
    return this.stats.groupsCsv(query);
  }

  @Get('peak-hours')
  peakHours(@Query(new ZodValidationPipe(PeakHoursQuerySchema)) query: PeakHoursQueryDto) {
    return this.stats.peakHours(query);
  }

  @Get('dwell')
  dwell(@Query(new ZodValidationPipe(DwellQuerySchema)) query: DwellQueryDto) {
    return this.stats.dwell(query);
  }
}
