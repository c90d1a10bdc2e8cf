/**
 * Two ingest processes started from one config file (and one dataDir) with
 * `ingest.shard` 0/2 and 1/2: each reads its share of the cameras, never the
 * other's; runtime changes go to the owning shard only and survive a restart.
 * Real processes (startCrowdLens), a real RTSP server for the camera that streams.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type AppConfigInput } from '@crowdlens/config';
import { createLogger } from '@crowdlens/runtime';
import type { CameraDetails } from '@crowdlens/vision';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';
import { freePortPair } from '../support/kafka';
import { RtspTestServer } from './support/rtsp-server';

interface Listing {
  shard: { index: number; count: number };
  cameras: CameraDetails[];
}

describe('ingest.shard: one camera list split across ingest processes', () => {
  let server: RtspTestServer;
  const apps: RunningApp[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'crowdlens-shards-'));
  const logLines: string[] = [];
  let configFor: (index: number) => ReturnType<typeof parseConfig>;

  // Owners under 2 shards (rendezvous hashing, see camera-shard.spec.ts): door, aisle-1, till → 1; aisle-2, exit → 0.
  const ALL = ['aisle-1', 'aisle-2', 'door', 'exit', 'till'];

  beforeAll(async () => {
    server = await RtspTestServer.start();
    await server.publish('door');
    const dead = `rtsp://127.0.0.1:${await freePortPair()}`;
    const input: AppConfigInput = {
      role: 'ingest',
      dataDir,
      logLevel: 'info',
      http: { port: 0, host: '127.0.0.1' },
      detector: { workers: 1 },
      auth: { disabled: true, adminWithoutAuth: true }, // the admin API with auth off is opt-in
      cameras: [
        { id: 'door', url: server.url('door'), fps: 3 },
        ...['aisle-1', 'aisle-2', 'exit', 'till'].map((id) => ({ id, url: `${dead}/${id}` })),
      ],
    };
    configFor = (index) => parseConfig({ ...input, ingest: { shard: `${index}/2` } });
    const logger = createLogger('info', 'crowdlens', { write: (line: string) => void logLines.push(line) });
    for (const index of [0, 1]) apps.push(await startCrowdLens(configFor(index), logger));
  }, 300_000);

  afterAll(async () => {
    for (const app of apps) await app.close();
    await server?.stop();
  });

  async function call<T>(
    index: number,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${apps[index]!.url}${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
  const ids = async (index: number) =>
    (await call<Listing>(index, 'GET', '/api/admin/cameras')).body.cameras.map((c) => c.cameraId).sort();

  it('each process reads only its share; together they read every camera once', async () => {
    const [zero, one] = [await ids(0), await ids(1)];
    expect(zero).toEqual(['aisle-2', 'exit']);
    expect(one).toEqual(['aisle-1', 'door', 'till']);
    expect([...zero, ...one].sort()).toEqual(ALL);
    expect((await call<Listing>(1, 'GET', '/api/admin/cameras')).body.shard).toEqual({ index: 1, count: 2 });
    expect(logLines.some((l) => l.includes('ingest shard 0/2: reading 2 of the 5 configured cameras'))).toBe(true);

    // The shard's RTSP camera really streams.
    let door: CameraDetails | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      door = (await call<Listing>(1, 'GET', '/api/admin/cameras')).body.cameras.find((c) => c.cameraId === 'door');
      if (door?.state === 'streaming' && door.framesAnalysed > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(door).toMatchObject({ state: 'streaming', lastError: null });
  });

  it('a runtime camera is added through its owner only; a removal names the owner when asked of the wrong one', async () => {
    const lobby = { id: 'lobby', url: 'rtsp://127.0.0.1:1/lobby' }; // owner: shard 0
    const refused = await call<{ message: string }>(1, 'POST', '/api/admin/cameras', lobby);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/belongs to ingest shard 0\/2, not to this process \(shard 1\/2\)/);
    expect((await call(0, 'POST', '/api/admin/cameras', lobby)).status).toBe(201);

    const wrong = await call<{ message: string }>(1, 'DELETE', '/api/admin/cameras/exit');
    expect(wrong.status).toBe(404);
    expect(wrong.body.message).toMatch(/not read by this process \(shard 1\/2\).*shard 0\/2/);
    expect((await call(1, 'DELETE', '/api/admin/cameras/till')).status).toBe(204);

    // One file per shard, so the two processes never overwrite each other's changes.
    const saved = (index: number) =>
      JSON.parse(readFileSync(join(dataDir, `cameras.shard-${index}.json`), 'utf8')) as {
        added: { id: string }[];
        removed: string[];
      };
    expect(saved(0)).toMatchObject({ added: [{ id: 'lobby' }], removed: [] });
    expect(saved(1)).toMatchObject({ added: [], removed: ['till'] });
    expect(existsSync(join(dataDir, 'cameras.json'))).toBe(false);
  });

  it('after a restart of both, each shard comes back with its own changes', async () => {
    for (const [index, app] of apps.entries()) {
      await app.close();
      const logger = createLogger('info', 'crowdlens', { write: (line: string) => void logLines.push(line) });
      apps[index] = await startCrowdLens(configFor(index), logger);
    }
    expect(await ids(0)).toEqual(['aisle-2', 'exit', 'lobby']);
    expect(await ids(1)).toEqual(['aisle-1', 'door']);
  });
});
