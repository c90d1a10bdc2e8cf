/**
 * The guard in a real Nest app (CoreModule + one admin route), over HTTP:
 * cross-site form posts, non-JSON bodies and the admin API with auth off.
 */
import 'reflect-metadata';
import { Body, Controller, HttpCode, Module, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseConfig, type AppConfigInput } from '@crowdlens/config';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@crowdlens/runtime';
import { CoreModule } from '../nest/core.module';
import { PinoNestLogger } from '../nest/pino-nest-logger';
import { hashPassword } from './password-hash';
import { RequireRole } from './roles';

@Controller('api/admin/things')
class ThingsController {
  @Post()
  @RequireRole('admin')
  @HttpCode(201)
  add(@Body() body: unknown): { added: unknown } {
    return { added: body };
  }
}

const apps: INestApplication[] = [];

async function start(input: AppConfigInput): Promise<string> {
  const config = parseConfig({ http: { port: 0, host: '127.0.0.1' }, ...input });
  const logger = createLogger('silent');
  @Module({ imports: [CoreModule.forRoot(config, logger)], controllers: [ThingsController] })
  class TestModule {}
  const app = await NestFactory.create(TestModule, { logger: new PinoNestLogger(logger) });
  await app.listen(0, '127.0.0.1');
  apps.push(app);
  const { port } = app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('ApiGuard: the admin API with auth off', () => {
  it('refuses it unless auth.adminWithoutAuth is set, and says how to turn it on', async () => {
    const url = await start({ auth: { disabled: true } });
    const res = await fetch(`${url}/api/admin/things`, { method: 'POST', headers: JSON_HEADERS, body: '{"a":1}' });
    expect(res.status).toBe(403);
    expect(JSON.stringify(await res.json())).toContain('auth.adminWithoutAuth');
  });

  it('allows it with auth.adminWithoutAuth: true', async () => {
    const url = await start({ auth: { disabled: true, adminWithoutAuth: true } });
    const res = await fetch(`${url}/api/admin/things`, { method: 'POST', headers: JSON_HEADERS, body: '{"a":1}' });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ added: { a: 1 } });
  });
});

describe('ApiGuard: CSRF', () => {
  const adminOff = { auth: { disabled: true, adminWithoutAuth: true } };

  it('refuses a form-encoded body (what a cross-site HTML form sends) with 415', async () => {
    const url = await start(adminOff);
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
      const res = await fetch(`${url}/api/admin/things`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: 'id=evil&url=rtsp%3A%2F%2Fx',
      });
      expect(res.status, type).toBe(415);
    }
  });

  it('refuses changes a browser marks as cross-site or from another origin (another port is same-site)', async () => {
    const url = await start(adminOff);
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/api/admin/things`, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: '{}' });
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await post({ origin: 'http://127.0.0.1:1' })).status).toBe(403);
    expect((await post({ origin: 'null' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'same-origin', origin: url })).status).toBe(201);
    expect((await post({ origin: url })).status).toBe(201);
    // No browser headers at all: curl or a script, not a drive-by.
    expect((await post({})).status).toBe(201);
  });

  it('checks cookie-authenticated changes, login included, but not API keys', async () => {
    const key = 'k'.repeat(32);
    const { createHash } = await import('node:crypto');
    const url = await start({
      auth: {
        users: [{ username: 'ada', role: 'admin', passwordHash: hashPassword('ada-pass') }],
        apiKeys: [{ name: 'ops', role: 'admin', keySha256: createHash('sha256').update(key).digest('hex') }],
      },
    });
    const crossSite = { ...JSON_HEADERS, 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:1' };
    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: crossSite,
      body: JSON.stringify({ username: 'ada', password: 'ada-pass' }),
    });
    expect(login.status).toBe(403);
    const ok = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ username: 'ada', password: 'ada-pass' }),
    });
    expect(ok.status).toBe(200);
    const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
    const withCookie = await fetch(`${url}/api/admin/things`, {
      method: 'POST',
      headers: { ...crossSite, cookie },
      body: '{}',
    });
    expect(withCookie.status).toBe(403);
    const withKey = await fetch(`${url}/api/admin/things`, {
      method: 'POST',
      headers: { ...crossSite, 'x-api-key': key },
      body: '{}',
    });
    expect(withKey.status).toBe(201);
  });
});
