import { LoginSchema } from '../auth/auth.controller';
import { registerApiRoutes } from './api-routes';

registerApiRoutes([
  { method: 'get', path: '/health', tag: 'ops', summary: 'Liveness', access: 'public', responses: { 200: 'alive' } },
  {
    method: 'get',
    path: '/ready',
    tag: 'ops',
    summary: 'Readiness of every component in this process',
    access: 'public',
    responses: { 200: 'ready', 503: 'not ready yet' },
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'ops',
    summary: 'Prometheus metrics',
    access: 'operator',
    produces: 'text/plain',
    responses: { 200: 'metrics' },
  },
  {
    method: 'post',
    path: '/api/auth/login',
    tag: 'auth',
    summary: 'Log in; returns a token and sets an HttpOnly cookie',
    access: 'public',
    body: LoginSchema,
    responses: { 200: 'token', 400: 'malformed body', 401: 'wrong credentials', 429: 'too many attempts' },
  },
  {
    method: 'post',
    path: '/api/auth/logout',
    tag: 'auth',
    summary: 'Clear the session cookie',
    access: 'public',
    responses: { 204: 'logged out' },
  },
  {
    method: 'get',
    path: '/api/auth/me',
    tag: 'auth',
    summary: 'Who am I',
    access: 'viewer',
    responses: { 200: 'principal' },
  },
  {
    method: 'get',
    path: '/api/docs/openapi.json',
    tag: 'ops',
    summary: 'This document',
    access: 'viewer',
    responses: { 200: 'OpenAPI 3.1' },
  },
]);
