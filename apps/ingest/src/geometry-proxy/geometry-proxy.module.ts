import { Module } from '@nestjs/common';
import { GeometryProxyController } from './geometry-proxy.controller';
import { GeometryProxyService } from './geometry-proxy.service';

/**
 * Lines and zones reachable from an analytics process alone (distributed
 * mode): forwarded to the ingest processes, where they are kept and counted.
 * Where ingest runs in the process (embedded, ingest), IngestModule serves
 * the same routes itself and this module is not loaded.
 */
@Module({
  controllers: [GeometryProxyController],
  providers: [GeometryProxyService],
})
export class GeometryProxyModule {}
