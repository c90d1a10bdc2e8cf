import { Module } from '@nestjs/common';
import { ANALYTICS_CONTROLLERS } from './controllers';
import { ANALYTICS_SERVICES } from './services';

/** Predictions and track events -> aggregates -> REST, live stream and dashboard. Needs StorageModule and CoreModule. */
@Module({
  controllers: ANALYTICS_CONTROLLERS,
  providers: ANALYTICS_SERVICES,
  exports: ANALYTICS_SERVICES,
})
export class AnalyticsModule {}
