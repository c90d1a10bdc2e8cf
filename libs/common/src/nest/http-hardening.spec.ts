/**
 * What every answer of a CrowdLens process carries (security headers, no
 * caching of API data, no X-Powered-By), and unauthenticated requests that
 * used to end in a 500.
 */
import 'reflect-metadata';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseConfig } from '@crowdlens/config';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../auth/password-hash';
import { createLogger } from '@crowdlens/runtime';
import { CoreModule } from './core.module';
import { hardenHttp } from './http-hardening';
import { PinoNestLogger } from './pino-nest-logger';

let app: INestApplication;
let url: string;

beforeAll(async () => {
  const config = parseConfig({
    http: { port: 0, host: '127.0.0.1' },
    auth: { users: [{ username: 'v', role: 'viewer', passwordHash: hashPassword('v-pass') }] },
  });
  const logger = createLogger('silent');
  @Module({ imports: [CoreModule.forRoot(config, logger)] })
  class TestModule {}
  app = await NestFactory.create(TestModule, { logger: new PinoNestLogger(logger) });
  hardenHttp(app);
  await app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app?.close();
});

describe('HTTP hardening', () => {
  it('sends a CSP that forbids framing and inline scripts, nosniff, and no X-Powered-By', async () => {
    for (const path of ['/health', '/api/docs', '/nowhere']) {
      const res = await fetch(`${url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp).not.toContain("'unsafe-inline'; object"); // scripts never inline
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it('marks API answers no-store, errors included', async () => {
    expect((await fetch(`${url}/api/auth/me`)).headers.get('cache-control')).toBe('no-store');
    expect((await fetch(`${url}/api/docs/openapi.json`)).headers.get('cache-control')).toBe('no-store');
  });

  it('serves the Swagger UI without an inline script', async () => {
    const cookie = await login();
    const page = await (await fetch(`${url}/api/docs`, { headers: { cookie } })).text();
    expect(page).not.toMatch(/<script>/);
    const init = await fetch(`${url}/api/docs/assets/init.js`, { headers: { cookie } });
    expect(init.status).toBe(200);
    expect(await init.text()).toContain('SwaggerUIBundle');
  });
});

async function login(): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'v', password: 'v-pass' }),
  });
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

describe('requests that used to answer 500', () => {
  it('a malformed cookie is no credential: 401', async () => {
    const res = await fetch(`${url}/api/auth/me`, { headers: { cookie: 'crowdlens_token=%E0%A4%A' } });
    expect(res.status).toBe(401);
  });

  it('asset names that are Object.prototype keys: 404', async () => {
    const cookie = await login();
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect((await fetch(`${url}/api/docs/assets/${name}`, { headers: { cookie } })).status, name).toBe(404);
    }
  });
});
