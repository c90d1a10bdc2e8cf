import { CameraGeometrySchema, type CameraGeometry } from '@crowdlens/config';

/** PUT /api/admin/cameras/:id/geometry: the camera's whole set of lines and zones, replacing the previous one. */
export const PutGeometrySchema = CameraGeometrySchema;
export type PutGeometryDto = CameraGeometry;

/** What GET and PUT return: the lines and zones now in force, and whether they came from the admin API or the config file. */
export interface CameraGeometryDto extends CameraGeometry {
  readonly cameraId: string;
  readonly source: 'config' | 'admin';
}
