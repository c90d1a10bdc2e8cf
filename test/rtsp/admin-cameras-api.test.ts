/**
 * The ingest admin API through a real process (startCrowdLens, role ingest,
 * authentication on): who may list, add and remove cameras; a camera added at
 * runtime streams from a real RTSP server, and removing it ends its ffmpeg.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@crowdlens/config';
import { createLogger } from '@crowdlens/runtime';
import type { CameraDetails } from '@crowdlens/vision';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';
import { RtspTestServer } from './support/rtsp-server';
import { alive, ffmpegChildren } from './support/wait';

const KEYS = { viewer: 'viewer-key-0123456789', operator: 'operator-key-0123456789', admin: 'admin-key-0123456789' };
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('ingest admin API: /api/admin/cameras', () => {
  let server: RtspTestServer;
  let app: RunningApp;
  let restart: () => Promise<void>;
  const dataDir = mkdtempSync(join(tmpdir(), 'crowdlens-admin-'));
  const logLines: string[] = [];
  const creds = { user: 'lobby', password: 'Lobby-S3cret' };

  beforeAll(async () => {
    server = await RtspTestServer.start({ auth: { lobby: creds } });
    await server.publish('lobby');
    const config = parseConfig({
      role: 'ingest',
      dataDir,
      logLevel: 'info',
      http: { port: 0, host: '127.0.0.1' },
      detector: { workers: 1 }, // the default detector: SSD on onnxruntime
      auth: {
        apiKeys: (Object.keys(KEYS) as (keyof typeof KEYS)[]).map((role) => ({
          name: role,
          role,
          keySha256: sha256(KEYS[role]),
        })),
      },
    });
    const logger = createLogger('info', 'crowdlens', { write: (line: string) => void logLines.push(line) });
    app = await startCrowdLens(config, logger);
    restart = async () => {
      await app.close();
      app = await startCrowdLens(config, logger);
    };
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  async function call<T = unknown>(
    method: string,
    path: string,
    role: keyof typeof KEYS | null,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = {};
    if (role) headers['x-api-key'] = KEYS[role];
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${app.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
  const list = async () =>
    (await call<{ cameras: CameraDetails[] }>('GET', '/api/admin/cameras', 'operator')).body.cameras;

  it('lists for operators and admins only', async () => {
    expect((await call('GET', '/api/admin/cameras', null)).status).toBe(401);
    expect((await call('GET', '/api/admin/cameras', 'viewer')).status).toBe(403);
    expect(await list()).toEqual([]);
    expect((await call('GET', '/api/admin/cameras', 'admin')).status).toBe(200);
  });

  it('only admins add; a runtime camera streams, redacted; duplicates are 409, bad bodies 400', async () => {
    // Its own detector threshold, as a config file's camera may have: the same schema, the same path.
    const camera = { id: 'lobby', name: 'Lobby', url: server.url('lobby', creds), fps: 5, detectorMinScore: 0.6 };
    expect((await call('POST', '/api/admin/cameras', null, camera)).status).toBe(401);
    expect((await call('POST', '/api/admin/cameras', 'viewer', camera)).status).toBe(403);
    expect((await call('POST', '/api/admin/cameras', 'operator', camera)).status).toBe(403);
    expect(await list()).toEqual([]);

    const bad = await call<{ message: string[] }>('POST', '/api/admin/cameras', 'admin', {
      id: 'x',
      url: 'rtsp://h/x',
      fps: 99,
      colour: 'red',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message.join(' ')).toMatch(/fps/);
    expect(bad.body.message.join(' ')).toMatch(/colour|unrecognized/i);
    const scheme = await call<{ message: string[] }>('POST', '/api/admin/cameras', 'admin', {
      id: 'x',
      url: 'udp://u:pw@h:1',
    });
    expect(scheme.status).toBe(400);
    expect(JSON.stringify(scheme.body)).not.toContain(':pw@');
    const threshold = await call<{ message: string[] }>('POST', '/api/admin/cameras', 'admin', {
      id: 'x',
      url: 'rtsp://h/x',
      detectorMinScore: 1.5,
    });
    expect(threshold.status).toBe(400);
    expect(threshold.body.message.join(' ')).toMatch(/detectorMinScore/);

    const added = await call<CameraDetails>('POST', '/api/admin/cameras', 'admin', camera);
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      cameraId: 'lobby',
      name: 'Lobby',
      url: `rtsp://***:***@127.0.0.1:${server.port}/lobby`,
    });
    expect((await call('POST', '/api/admin/cameras', 'admin', camera)).status).toBe(409);

    let lobby: CameraDetails | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      lobby = (await list()).find((c) => c.cameraId === 'lobby');
      if (lobby?.state === 'streaming' && lobby.framesAnalysed > 5) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(lobby).toMatchObject({ state: 'streaming', lastError: null });
    expect(lobby?.framesAnalysed).toBeGreaterThan(5);
    expect(lobby?.detectMsMean).toBeGreaterThan(0);
    // Prometheus gauges follow the camera's periodic status (every 2 s).
    let metrics = '';
    for (let i = 0; i < 20 && !/crowdlens_camera_frames_analysed_total\{camera="lobby"\} [1-9]/.test(metrics); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 500));
      metrics = await (await fetch(`${app.url}/metrics`, { headers: { 'x-api-key': KEYS.operator } })).text();
    }
    expect(metrics).toMatch(/crowdlens_camera_frames_analysed_total\{camera="lobby"\} [1-9]/);
    expect(metrics).toContain('crowdlens_camera_frames_motion_skipped_total{camera="lobby"}');
  });

  async function waitStreaming(id: string): Promise<CameraDetails | undefined> {
    let cam: CameraDetails | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      cam = (await list()).find((c) => c.cameraId === id);
      if (cam?.state === 'streaming' && cam.framesAnalysed > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    return cam;
  }

  it('a camera added at runtime survives a restart; the saved file is private', async () => {
    const file = join(dataDir, 'cameras.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await restart();
    expect(await waitStreaming('lobby')).toMatchObject({ name: 'Lobby', state: 'streaming', lastError: null });
    expect(logLines.some((l) => l.includes('applying camera changes made at runtime'))).toBe(true);
  });

  it("only admins remove; removing ends the camera's ffmpeg; unknown ids are 404", async () => {
    const capture = ffmpegChildren().filter(
      (c) => c.args.includes('rawvideo') && c.args.includes(`:${server.port}/lobby`),
    );
    expect(capture).toHaveLength(1);
    const pid = (capture[0] as { pid: number }).pid;

    expect((await call('DELETE', '/api/admin/cameras/lobby', 'operator')).status).toBe(403);
    expect(alive(pid)).toBe(true);
    const removed = await call('DELETE', '/api/admin/cameras/lobby', 'admin');
    expect(removed.status).toBe(204);
    // The response waits for the child: it is gone by now.
    expect(alive(pid)).toBe(false);
    expect(ffmpegChildren().filter((c) => c.args.includes('rawvideo'))).toEqual([]);
    expect(await list()).toEqual([]);

    expect((await call('DELETE', '/api/admin/cameras/lobby', 'admin')).status).toBe(404);
    expect((await call('DELETE', '/api/admin/cameras/not%20an%20id', 'admin')).status).toBe(400);
    // The removal is saved too: a restart does not bring the camera back.
    await restart();
    expect(await list()).toEqual([]);
    // Credentials never reached the logs.
    expect(logLines.filter((l) => l.includes(creds.password))).toEqual([]);
  });
});
