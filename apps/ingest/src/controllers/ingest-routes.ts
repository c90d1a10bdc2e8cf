import { registerApiRoutes } from '@crowdlens/common';
import { PutGeometrySchema } from '../dtos/camera-geometry.dto';

registerApiRoutes([
  {
    method: 'get',
    path: '/api/admin/cameras/{id}/geometry',
    tag: 'cameras',
    summary: "A camera's counting lines and zones now in force (normalised 0–1 coordinates)",
    access: 'operator',
    pathParams: { id: 'camera id' },
    responses: {
      200: 'lines and zones',
      404: 'unknown camera (or one another ingest shard reads)',
      502: 'analytics (distributed mode): the ingest processes of liveView.ingestUrls did not answer (the reason names them)',
    },
  },
  {
    method: 'put',
    path: '/api/admin/cameras/{id}/geometry',
    tag: 'cameras',
    summary:
      "Replaces a camera's lines and zones; counted from its next frame, saved in <dataDir>/geometry.json, kept across restarts",
    access: 'admin',
    pathParams: { id: 'camera id' },
    body: PutGeometrySchema,
    responses: {
      200: 'lines and zones now in force',
      400: 'invalid line or zone (the reason names it)',
      404: 'unknown camera',
      502: 'analytics (distributed mode): the ingest processes of liveView.ingestUrls did not answer (the reason names them)',
    },
  },
]);
