import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpException } from '@nestjs/common';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '@crowdlens/config';
import { GeometryProxyService } from './geometry-proxy.service';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A stand-in ingest process on a real port: answers every request with `status` and `body`, remembers what it got. */
async function ingest(status: number, body: unknown): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: text });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

/** A port nothing listens on. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const proxy = (ingestUrls: string[]) =>
  new GeometryProxyService(parseConfig({ role: 'analytics', liveView: { ingestUrls } }), pino({ level: 'silent' }));
const req = {
  cameraId: 'door-cam',
  credentials: { cookie: 'crowdlens_session=abc', 'x-api-key': undefined },
  proxied: false,
};
const GEOMETRY = {
  cameraId: 'door-cam',
  source: 'admin',
  lines: [
    {
      name: 'door',
      points: [
        [0, 0.5],
        [1, 0.5],
      ],
    },
  ],
  zones: [],
};

describe('GeometryProxyService', () => {
  it('asks the next ingest process when one does not read the camera, then asks the one that did first', async () => {
    const other = await ingest(404, { message: 'unknown camera' });
    const owner = await ingest(200, GEOMETRY);
    servers.push(other.server, owner.server);
    const p = proxy([other.url, owner.url]);
    await expect(p.get(req)).resolves.toEqual(GEOMETRY);
    expect(other.seen).toHaveLength(1);
    // The caller's own credentials travel, marked as forwarded (answered there or not at all).
    expect(owner.seen[0]).toMatchObject({
      method: 'GET',
      url: '/api/admin/cameras/door-cam/geometry',
      headers: { cookie: 'crowdlens_session=abc', 'x-crowdlens-proxied': '1' },
    });
    expect(owner.seen[0]?.headers['x-api-key']).toBeUndefined();

    await p.put(req, { lines: GEOMETRY.lines as never, zones: [] });
    expect(other.seen).toHaveLength(1); // the owner is asked first now
    expect(owner.seen[1]).toMatchObject({ method: 'PUT', headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(owner.seen[1]?.body ?? '')).toEqual({ lines: GEOMETRY.lines, zones: [] });
  });

  it("passes the ingest process's refusal through with its status and reason", async () => {
    const refusing = await ingest(400, {
      statusCode: 400,
      message: ['lines.0.points: a line needs 2 distinct points'],
    });
    servers.push(refusing.server);
    const err = await proxy([refusing.url])
      .put(req, { lines: [], zones: [] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpException);
    expect((err as HttpException).getStatus()).toBe(400);
    expect((err as HttpException).getResponse()).toEqual({
      statusCode: 400,
      message: ['lines.0.points: a line needs 2 distinct points'],
    });
  });

  it('is a 502 naming the ingest process that did not answer, a 404 only when every one answered', async () => {
    const dead = await deadUrl();
    const other = await ingest(404, { message: 'unknown camera' });
    servers.push(other.server);
    const err = (await proxy([dead, other.url])
      .get(req)
      .catch((e: unknown) => e)) as HttpException;
    expect(err.getStatus()).toBe(502);
    expect(JSON.stringify(err.getResponse())).toContain(`${dead}: connection refused`);
    expect(
      (
        (await proxy([other.url])
          .get(req)
          .catch((e: unknown) => e)) as HttpException
      ).getStatus(),
    ).toBe(404);
    const none = (await proxy([])
      .get(req)
      .catch((e: unknown) => e)) as HttpException;
    expect(none.getStatus()).toBe(502);
    expect(JSON.stringify(none.getResponse())).toContain('liveView.ingestUrls lists none');
    // A request another process forwarded is never forwarded again.
    expect(
      (
        (await proxy([other.url])
          .get({ ...req, proxied: true })
          .catch((e: unknown) => e)) as HttpException
      ).getStatus(),
    ).toBe(404);
    expect(other.seen).toHaveLength(2);
  });
});
