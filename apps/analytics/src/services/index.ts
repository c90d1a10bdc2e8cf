import { CameraRegistry } from './camera-registry.service';
import { LineZoneRecorder } from './line-zone-recorder.service';
import { LineZoneStatsService } from './line-zone-stats.service';
import { LiveService } from './live.service';
import { PredictionRecorder } from './prediction-recorder.service';
import { RetentionService } from './retention.service';
import { StatsService } from './stats.service';
import { TrackEventRecorder } from './track-event-recorder.service';

export const ANALYTICS_SERVICES = [
  CameraRegistry,
  PredictionRecorder,
  TrackEventRecorder,
  StatsService,
  LiveService,
  RetentionService,
  LineZoneRecorder,
  LineZoneStatsService,
];
