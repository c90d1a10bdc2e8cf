/**
 * The live view and the line/zone admin API through real processes
 * (startCrowdLens, authentication on, the sample video playing):
 * - an ingest process serves a camera's snapshot to operators and admins as
 *   a JPEG, refuses viewers (403) and anonymous callers (401);
 * - an analytics process (the distributed dashboard) serves the same route by
 *   asking the ingest process, with the caller's own credentials;
 * - lines and zones: operators read them, only admins change them, an invalid
 *   zone is a 400 naming the field, and a change survives a restart;
 * - the same lines and zones through an analytics process (the distributed
 *   dashboard), forwarded with the caller's credentials, and a 502 naming the
 *   ingest process when none answers.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type AppConfigInput } from '@crowdlens/config';
import { createLogger, repoRoot } from '@crowdlens/runtime';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';

const KEYS = { viewer: 'viewer-key-0123456789', operator: 'operator-key-0123456789', admin: 'admin-key-0123456789' };
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Role = keyof typeof KEYS;

const base = (over: Partial<AppConfigInput>) =>
  parseConfig({
    logLevel: 'warn',
    http: { port: 0, host: '127.0.0.1' },
    detector: { workers: 1 },
    auth: {
      apiKeys: (Object.keys(KEYS) as Role[]).map((role) => ({ name: role, role, keySha256: sha256(KEYS[role]) })),
    },
    ...over,
  });

async function call(app: RunningApp, method: string, path: string, role: Role | null, body?: unknown) {
  const headers: Record<string, string> = {};
  if (role) headers['x-api-key'] = KEYS[role];
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${app.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

describe('live view and lines/zones admin API', () => {
  let ingest: RunningApp;
  let analytics: RunningApp;
  const ingestConfig = base({
    role: 'ingest',
    dataDir: mkdtempSync(join(tmpdir(), 'crowdlens-live-')),
    cameras: [
      {
        id: 'lobby',
        url: join(repoRoot(), 'assets/sample.mp4'),
        fps: 2,
        loop: true,
        lines: [
          {
            name: 'door',
            points: [
              [0.1, 0.8],
              [0.9, 0.8],
            ],
          },
        ],
      },
    ],
  });

  beforeAll(async () => {
    ingest = await startCrowdLens(ingestConfig, createLogger('warn', 'ingest'));
    analytics = await startCrowdLens(
      base({
        role: 'analytics',
        dataDir: mkdtempSync(join(tmpdir(), 'crowdlens-live-a-')),
        liveView: { ingestUrls: [ingest.url] },
      }),
      createLogger('warn', 'analytics'),
    );
  }, 300_000);

  afterAll(async () => {
    await analytics?.close();
    await ingest?.close();
  });

  it('gives operators and admins the JPEG, viewers a 403, anonymous callers a 401', async () => {
    let res: Response | null = null;
    for (let i = 0; i < 120; i++) {
      res = await call(ingest, 'GET', '/api/cameras/lobby/snapshot.jpg', 'operator');
      if (res.status === 200) break;
      expect(res.status).toBe(404); // no frame analysed yet
      await res.arrayBuffer();
      await sleep(1000);
    }
    expect(res?.status).toBe(200);
    expect(res?.headers.get('content-type')).toBe('image/jpeg');
    expect(res?.headers.get('cache-control')).toBe('no-store');
    const jpeg = Buffer.from(await (res as Response).arrayBuffer());
    expect(jpeg.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect((await call(ingest, 'GET', '/api/cameras/lobby/snapshot.jpg', 'admin')).status).toBe(200);
    expect((await call(ingest, 'GET', '/api/cameras/lobby/snapshot.jpg', 'viewer')).status).toBe(403);
    expect((await call(ingest, 'GET', '/api/cameras/lobby/snapshot.jpg', null)).status).toBe(401);
    expect((await call(ingest, 'GET', '/api/cameras/nope/snapshot.jpg', 'operator')).status).toBe(404);
  }, 300_000);

  it('serves the snapshot from analytics by asking the ingest process, with the caller’s own role', async () => {
    const res = await call(analytics, 'GET', '/api/cameras/lobby/snapshot.jpg', 'operator');
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect((await call(analytics, 'GET', '/api/cameras/lobby/snapshot.jpg', 'viewer')).status).toBe(403);
    expect((await call(analytics, 'GET', '/api/cameras/nope/snapshot.jpg', 'operator')).status).toBe(404);
  });

  it('lets operators read lines and zones and only admins change them, validated, kept across a restart', async () => {
    const read = await call(ingest, 'GET', '/api/admin/cameras/lobby/geometry', 'operator');
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({
      cameraId: 'lobby',
      source: 'config',
      lines: [{ name: 'door' }],
      zones: [],
    });
    expect((await call(ingest, 'GET', '/api/admin/cameras/lobby/geometry', 'viewer')).status).toBe(403);

    const next = {
      lines: [
        {
          name: 'door',
          points: [
            [0.5, 0],
            [0.5, 1],
          ],
        },
      ],
      zones: [
        {
          name: 'till',
          points: [
            [0, 0],
            [0.3, 0],
            [0.3, 0.3],
          ],
          capacity: 3,
        },
      ],
    };
    expect((await call(ingest, 'PUT', '/api/admin/cameras/lobby/geometry', 'operator', next)).status).toBe(403);
    const bad = await call(ingest, 'PUT', '/api/admin/cameras/lobby/geometry', 'admin', {
      lines: [],
      zones: [
        {
          name: 'z',
          points: [
            [0, 0],
            [1, 1],
          ],
        },
      ],
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('zones.0.points');
    expect((await call(ingest, 'PUT', '/api/admin/cameras/nope/geometry', 'admin', next)).status).toBe(404);
    const put = await call(ingest, 'PUT', '/api/admin/cameras/lobby/geometry', 'admin', next);
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ source: 'admin', ...next });

    await ingest.close();
    ingest = await startCrowdLens(ingestConfig, createLogger('warn', 'ingest'));
    const after = await call(ingest, 'GET', '/api/admin/cameras/lobby/geometry', 'operator');
    expect(await after.json()).toMatchObject({ source: 'admin', ...next });
  }, 300_000);

  it('reads and changes lines and zones through analytics (the distributed dashboard) with the caller’s own role', async () => {
    // The ingest process restarted above (on a new port): an analytics process that knows where it is now.
    const dashboard = await startCrowdLens(
      base({
        role: 'analytics',
        dataDir: mkdtempSync(join(tmpdir(), 'crowdlens-live-b-')),
        liveView: { ingestUrls: [ingest.url] },
      }),
      createLogger('warn', 'analytics'),
    );
    try {
      const read = await call(dashboard, 'GET', '/api/admin/cameras/lobby/geometry', 'operator');
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ cameraId: 'lobby', lines: [{ name: 'door' }] });
      expect((await call(dashboard, 'GET', '/api/admin/cameras/lobby/geometry', 'viewer')).status).toBe(403);
      expect((await call(dashboard, 'GET', '/api/admin/cameras/lobby/geometry', null)).status).toBe(401);
      expect((await call(dashboard, 'GET', '/api/admin/cameras/nope/geometry', 'operator')).status).toBe(404);

      const lines = [
        {
          name: 'door',
          points: [
            [0.1, 0.8],
            [0.9, 0.8],
          ],
        },
        {
          name: 'aisle',
          points: [
            [0.5, 0.1],
            [0.5, 0.9],
          ],
        },
      ];
      expect(
        (await call(dashboard, 'PUT', '/api/admin/cameras/lobby/geometry', 'operator', { lines, zones: [] })).status,
      ).toBe(403);
      // Invalid: a duplicate name, refused with the reason (by analytics' own validation, the same schema as ingest's).
      const bad = await call(dashboard, 'PUT', '/api/admin/cameras/lobby/geometry', 'admin', {
        lines: [
          ...lines,
          {
            name: 'door',
            points: [
              [0, 0],
              [1, 1],
            ],
          },
        ],
        zones: [],
      });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(await bad.json())).toContain('duplicate name \\"door\\"');
      const put = await call(dashboard, 'PUT', '/api/admin/cameras/lobby/geometry', 'admin', { lines, zones: [] });
      expect(put.status).toBe(200);
      expect(await put.json()).toMatchObject({ cameraId: 'lobby', source: 'admin', lines });
      // It reached the ingest process that reads the camera: in force there.
      const there = await call(ingest, 'GET', '/api/admin/cameras/lobby/geometry', 'operator');
      expect(await there.json()).toMatchObject({ source: 'admin', lines });
    } finally {
      await dashboard.close();
    }
  }, 120_000);

  it('answers 502 with the reason when no ingest process answers', async () => {
    // A port nothing listens on: bound, then closed.
    const dead = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const orphan = await startCrowdLens(
      base({
        role: 'analytics',
        dataDir: mkdtempSync(join(tmpdir(), 'crowdlens-live-o-')),
        liveView: { ingestUrls: [`http://127.0.0.1:${dead}`] },
      }),
      createLogger('error', 'analytics'),
    );
    try {
      const res = await call(orphan, 'GET', '/api/admin/cameras/lobby/geometry', 'operator');
      expect(res.status).toBe(502);
      const { message } = (await res.json()) as { message: string };
      expect(message).toContain(`http://127.0.0.1:${dead}: connection refused`);
      const put = await call(orphan, 'PUT', '/api/admin/cameras/lobby/geometry', 'admin', { lines: [], zones: [] });
      expect(put.status).toBe(502);
      // The role is still checked before anything is forwarded.
      expect(
        (await call(orphan, 'PUT', '/api/admin/cameras/lobby/geometry', 'operator', { lines: [], zones: [] })).status,
      ).toBe(403);
    } finally {
      await orphan.close();
    }
  }, 120_000);
});
