import { Module } from '@nestjs/common';
import { IngestMetrics } from './services/ingest-metrics';
import { IngestService } from './services/ingest.service';

/** Cameras -> face crops on the bus. */
@Module({
  providers: [IngestMetrics, IngestService],
  exports: [IngestService],
})
export class IngestModule {}
