/**
 * ingest.maxCameras through a real process (issue 14 item 7): the admin API answers 409 with the
 * setting's name once the process reads its limit, concurrent adds cannot pass it, a removal frees
 * a place; a restart whose saved runtime cameras exceed a lowered limit is refused with the reason.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type AppConfigInput } from '@crowdlens/config';
import { createLogger } from '@crowdlens/runtime';
import type { CameraDetails } from '@crowdlens/vision';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';
import { ffmpegChildren } from '../rtsp/support/wait';

const SAMPLE = resolve(__dirname, '../../assets/sample.mp4');
const cam = (id: string) => ({ id, url: SAMPLE, fps: 1, loop: true });

describe('ingest.maxCameras: the admin API and the start-up check', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'crowdlens-camera-limit-'));
  const logger = createLogger('warn', 'crowdlens', { write: () => undefined });
  const input = (maxCameras: number): AppConfigInput => ({
    role: 'ingest',
    dataDir,
    http: { port: 0, host: '127.0.0.1' },
    auth: { adminWithoutAuth: true },
    detector: { workers: 0 },
    counting: { unit: 'faces' },
    motion: { enabled: true },
    ingest: { maxCameras },
    cameras: [cam('from-config')],
  });
  let app: RunningApp | undefined;

  beforeAll(async () => {
    app = await startCrowdLens(parseConfig(input(3)), logger);
  }, 300_000);
  afterAll(async () => {
    await app?.close();
  });

  async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${(app as RunningApp).url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  it('refuses the camera past the limit with 409 naming ingest.maxCameras, also when two adds race for the last place', async () => {
    expect((await call('POST', '/api/admin/cameras', cam('second'))).status).toBe(201);
    const raced = await Promise.all([
      call<{ message: string }>('POST', '/api/admin/cameras', cam('third-a')),
      call<{ message: string }>('POST', '/api/admin/cameras', cam('third-b')),
    ]);
    expect(raced.map((r) => r.status).sort()).toEqual([201, 409]);
    const refused = raced.find((r) => r.status === 409)!;
    expect(refused.body.message).toMatch(/already reads 3 cameras, its limit \(ingest\.maxCameras = 3\)/);
    const again = await call<{ message: string }>('POST', '/api/admin/cameras', cam('fourth'));
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/ingest\.maxCameras/);
    const listed = await call<{ cameras: CameraDetails[] }>('GET', '/api/admin/cameras');
    expect(listed.body.cameras).toHaveLength(3);
  });

  it('a removal frees a place', async () => {
    expect((await call('DELETE', '/api/admin/cameras/second')).status).toBe(204);
    expect((await call('POST', '/api/admin/cameras', cam('fourth'))).status).toBe(201);
  });

  it('a restart with a lower limit than the saved runtime cameras need is refused before any camera starts', async () => {
    await app?.close();
    app = undefined;
    const err = await startCrowdLens(parseConfig(input(2)), logger).then(
      (started) => {
        app = started;
        return null;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(ffmpegChildren()).toEqual([]);
    expect((err as Error).message).toMatch(
      /^ingest\.maxCameras: this ingest process would read 3 cameras \(1 from the config file, 2 added at runtime \(.*cameras\.json\)\), more than ingest\.maxCameras = 2/,
    );
  });
});
