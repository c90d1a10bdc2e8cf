import { Controller, Get, Header, Query } from '@nestjs/common';
import { ZodValidationPipe } from '@crowdlens/common';
import {
  OccupancyQuerySchema,
  StatsQuerySchema,
  type OccupancyQueryDto,
  type StatsQueryDto,
} from '../dtos/stats-query.dto';
import { LineZoneStatsService, type LinesResult, type ZonesResult } from '../services/line-zone-stats.service';

/** Line crossings and zone counts beside /api/stats, same parameters, same k-anonymity. */
@Controller('api/stats')
export class LineZoneStatsController {
  constructor(private readonly lineZones: LineZoneStatsService) {}

  @Get('lines')
  lines(@Query(new ZodValidationPipe(StatsQuerySchema)) query: StatsQueryDto): Promise<LinesResult> {
    return this.lineZones.lines(query);
  }

  @Get('lines/csv')
  @Header('Content-Type', 'text/csv; charset=utf-8')
  @Header('Content-Disposition', 'attachment; filename="crowdlens-lines.csv"')
  linesCsv(@Query(new ZodValidationPipe(StatsQuerySchema)) query: StatsQueryDto): Promise<string> {
    return this.lineZones.linesCsv(query);
  }

  @Get('zones')
  zones(@Query(new ZodValidationPipe(StatsQuerySchema)) query: StatsQueryDto): Promise<ZonesResult> {
    return this.lineZones.zones(query);
  }

  @Get('zones/csv')
  @Header('Content-Type', 'text/csv; charset=utf-8')
  @Header('Content-Disposition', 'attachment; filename="crowdlens-zones.csv"')
  zonesCsv(@Query(new ZodValidationPipe(StatsQuerySchema)) query: StatsQueryDto): Promise<string> {
    return this.lineZones.zonesCsv(query);
  }
}

@Controller('api/occupancy')
export class OccupancyController {
  constructor(private readonly lineZones: LineZoneStatsService) {}

  @Get()
  get(@Query(new ZodValidationPipe(OccupancyQuerySchema)) query: OccupancyQueryDto) {
    return this.lineZones.occupancy(query);
  }
}
