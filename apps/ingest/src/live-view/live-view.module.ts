import { Global, Module } from '@nestjs/common';
import { registerApiRoutes } from '@crowdlens/common';
import { LiveFrames } from '@crowdlens/vision';
import { SnapshotController } from './snapshot.controller';
import { SnapshotService } from './snapshot.service';

registerApiRoutes([
  {
    method: 'get',
    path: '/api/cameras/{id}/snapshot.jpg',
    tag: 'cameras',
    summary:
      "The camera's latest analysed frame as JPEG: people's boxes and track ids, lines and zones drawn, faces blurred (memory only)",
    access: 'operator',
    pathParams: { id: 'camera id' },
    produces: 'image/jpeg',
    responses: {
      200: 'JPEG',
      403: 'viewers may not see the picture',
      404: 'no analysed frame yet',
      503: 'no ingest process answered',
    },
  },
]);

/**
 * The live view, in every process with an HTTP API but inference: ingest
 * (embedded or alone) keeps the frames in LiveFrames, analytics alone
 * forwards to the ingest processes. Global so that IngestService, in another
 * module, fills the same LiveFrames the controller reads.
 */
@Global()
@Module({
  controllers: [SnapshotController],
  providers: [LiveFrames, SnapshotService],
  exports: [LiveFrames],
})
export class LiveViewModule {}
