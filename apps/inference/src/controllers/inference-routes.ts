import { registerApiRoutes } from '@crowdlens/common';
import { ModelsResponseSchema } from '../dtos/active-model.dto';

registerApiRoutes([
  {
    method: 'get',
    path: '/api/models',
    tag: 'models',
    summary:
      'The gender classifier this process serves, with its model card (accuracy per class and group, calibration) or "unmeasured"',
    access: 'viewer',
    response: ModelsResponseSchema,
    responses: { 200: 'the active model' },
  },
]);
