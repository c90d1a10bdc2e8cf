import { CameraConfigSchema, CameraIdSchema, type CameraConfig } from '@crowdlens/config';
import type { CameraDetails } from '@crowdlens/vision';

/** POST /api/admin/cameras: exactly a camera entry of the config file (same schema, same defaults). */
export const AddCameraSchema = CameraConfigSchema;
export type AddCameraDto = CameraConfig;

/** `:id` of DELETE /api/admin/cameras/:id. */
export const CameraIdParamSchema = CameraIdSchema;

/** What the admin API returns for a camera: its status plus process-local counters; the URL is redacted. */
export type AdminCameraDto = CameraDetails;
