import type { UserRole } from '@crowdlens/config';
import type { z } from 'zod';

/**
 * One HTTP route as the OpenAPI document describes it. Each app lists its
 * routes next to its controllers; the query and body schemas are the same
 * zod schemas the controllers validate with, so the docs cannot drift.
 */
export interface ApiRoute {
  readonly method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI path, e.g. /api/admin/cameras/{id} */
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  readonly access: UserRole | 'public';
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  readonly pathParams?: Readonly<Record<string, string>>;
  readonly responses: Readonly<Record<number, string>>;
  /** Shape of the JSON body of the success response, when the route documents it. */
  readonly response?: z.ZodType;
  readonly produces?: string;
}

const registry = new Map<string, ApiRoute>();

/** Called at module load by each app's route list; duplicates (same method + path) replace. */
export function registerApiRoutes(routes: readonly ApiRoute[]): void {
  for (const r of routes) registry.set(`${r.method} ${r.path}`, r);
}

export function registeredApiRoutes(): ApiRoute[] {
  return [...registry.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}
