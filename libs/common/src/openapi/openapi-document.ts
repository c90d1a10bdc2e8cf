import { z } from 'zod';
import type { ApiRoute } from './api-routes';

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  return rest;
}

/** A response as it is sent (output types), not as a request would be parsed. */
function responseSchema(schema: z.ZodType): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Json;
  return rest;
}

function queryParameters(schema: z.ZodType): Json[] {
  const s = jsonSchema(schema) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => {
    const { description, ...propSchema } = prop;
    return { name, in: 'query', required: (s.required ?? []).includes(name), description, schema: propSchema };
  });
}

function operation(route: ApiRoute): Json {
  const parameters = [
    ...Object.entries(route.pathParams ?? {}).map(([name, description]) => ({
      name,
      in: 'path',
      required: true,
      description,
      schema: { type: 'string' },
    })),
    ...(route.query ? queryParameters(route.query) : []),
  ];
  const responses: Json = {};
  for (const [code, description] of Object.entries(route.responses)) {
    const success = Number(code) < 300;
    responses[code] =
      success && route.produces
        ? { description, content: { [route.produces]: {} } }
        : success && route.response
          ? { description, content: { 'application/json': { schema: responseSchema(route.response) } } }
          : { description };
  }
  if (route.access !== 'public') {
    responses['401'] ??= { description: 'not authenticated' };
    responses['403'] ??= { description: `needs the ${route.access} role` };
    responses['429'] ??= { description: 'rate limit exceeded (see Retry-After)' };
  }
  return {
    tags: [route.tag],
    summary: route.summary,
    description:
      route.access === 'public' ? 'No authentication.' : `Requires the **${route.access}** role (or higher).`,
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } }
      : {}),
    responses,
    security: route.access === 'public' ? [] : [{ bearer: [] }, { apiKey: [] }, { cookie: [] }],
  };
}

/** OpenAPI 3.1 for the routes this process serves. */
export function buildOpenApiDocument(routes: readonly ApiRoute[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) paths[route.path] = { ...(paths[route.path] ?? {}), [route.method]: operation(route) };
  return {
    openapi: '3.1.0',
    info: {
      title: 'CrowdLens API',
      version,
      description:
        'Aggregate, perceived-gender demographics from camera streams. Buckets with fewer than k people are suppressed; no face image is ever stored or returned.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'login token from POST /api/auth/login, or an API key' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'crowdlens_token' },
      },
    },
    paths,
  };
}
