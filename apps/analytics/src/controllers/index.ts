import './analytics-routes';
import { CamerasController } from './cameras.controller';
import { DashboardController } from './dashboard.controller';
import { LiveController } from './live.controller';
import { StatsController } from './stats.controller';

export const ANALYTICS_CONTROLLERS = [StatsController, CamerasController, LiveController, DashboardController];
