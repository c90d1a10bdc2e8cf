import { AdminCamerasController } from './admin-cameras.controller';

export const INGEST_CONTROLLERS = [AdminCamerasController];
