import { registerApiRoutes } from '@crowdlens/common';

registerApiRoutes([
  {
    method: 'get',
    path: '/api/alerts',
    tag: 'alerts',
    summary:
      'Alerts firing now (rule, camera, zone, value, threshold, startedAt, firedAt); rules in alerts.rules (docs/alerts.md)',
    access: 'operator',
    responses: { 200: 'alerts firing now' },
  },
]);
