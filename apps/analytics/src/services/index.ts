import { CameraRegistry } from './camera-registry.service';
import { LiveService } from './live.service';
import { PredictionRecorder } from './prediction-recorder.service';
import { RetentionService } from './retention.service';
import { StatsService } from './stats.service';

export const ANALYTICS_SERVICES = [CameraRegistry, PredictionRecorder, StatsService, LiveService, RetentionService];
