/**
 * Response headers every answer carries, set once for the whole HTTP server
 * (before Nest's routes, so 404s and errors get them too): the dashboard
 * cannot be framed or made to run injected scripts, browsers do not sniff
 * types, and API answers (counts, camera lists, tokens) are never cached.
 */
import type { INestApplication } from '@nestjs/common';
import type { Express, NextFunction, Request, Response } from 'express';

/**
 * Scripts and styles from this origin only: the dashboard and the Swagger UI
 * load their code as files. Inline styles stay allowed: chart.js and Swagger
 * UI set style attributes.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** Paths whose answers are data: never stored by a browser or a proxy. */
function isDataPath(path: string): boolean {
  return path.startsWith('/api/') || path === '/api' || path === '/metrics';
}

export function hardenHttp(app: INestApplication): void {
  (app.getHttpAdapter().getInstance() as Express).disable('x-powered-by');
  app.use((req: Request, res: Response, next: NextFunction) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (isDataPath(req.path)) res.setHeader('Cache-Control', 'no-store');
    next();
  });
}
