import './analytics-routes';
import './line-zone-routes';
import { CamerasController } from './cameras.controller';
import { DashboardController } from './dashboard.controller';
import { LineZoneStatsController, OccupancyController } from './line-zone-stats.controller';
import { LiveController } from './live.controller';
import { StatsController } from './stats.controller';

export const ANALYTICS_CONTROLLERS = [
  StatsController,
  CamerasController,
  LiveController,
  DashboardController,
  LineZoneStatsController,
  OccupancyController,
];
