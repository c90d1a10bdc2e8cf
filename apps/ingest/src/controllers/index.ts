import './ingest-routes';
import { AdminCamerasController } from './admin-cameras.controller';
import { AdminGeometryController } from './admin-geometry.controller';

export const INGEST_CONTROLLERS = [AdminCamerasController, AdminGeometryController];
