import { Module } from '@nestjs/common';
import { INGEST_CONTROLLERS } from './controllers';
import { IngestMetrics } from './services/ingest-metrics';
import { IngestService } from './services/ingest.service';

/** Cameras -> face crops on the bus; admin REST to add and remove cameras at runtime. */
@Module({
  controllers: INGEST_CONTROLLERS,
  providers: [IngestMetrics, IngestService],
  exports: [IngestService],
})
export class IngestModule {}
