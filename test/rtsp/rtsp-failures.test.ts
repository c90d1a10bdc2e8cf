/**
 * Bad cameras next to a good one in one CameraManager: a server that accepts
 * the connection and never answers, and a camera with the wrong password.
 * Each must say what is wrong in words an operator can act on, and the
 * healthy camera must not notice.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraConfigSchema } from '@crowdlens/config';
import type { CameraStatus, FaceCrop } from '@crowdlens/contracts';
import { CameraManager } from '@crowdlens/vision';
import { startTestCameraManager } from './support/test-camera-manager';
import { freePort, RtspTestServer } from './support/rtsp-server';
import { capturingLogger, sleep, waitFor } from './support/wait';

describe('unreachable and unauthorised RTSP cameras beside a healthy one', () => {
  let server: RtspTestServer;
  let silent: Server;
  let silentPort: number;
  const sockets: Socket[] = [];
  let manager: CameraManager;
  const crops: FaceCrop[] = [];
  const statuses: CameraStatus[] = [];
  const { logger, lines } = capturingLogger('trace');
  const right = { user: 'cam', password: 'Rt-s3cret' };
  const wrong = { user: 'cam', password: 'Wr0ng-s3cret' };

  beforeAll(async () => {
    server = await RtspTestServer.start({ auth: { secure: right } });
    await server.publish('healthy');
    await server.publish('secure');
    // Accepts TCP connections and never says a word: a hung camera or a black-holing proxy.
    silentPort = await freePort();
    silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(silentPort, '127.0.0.1', r));
    manager = await startTestCameraManager({ logger, crops, statuses, detector: { type: 'tiny', inputSize: 416 } });
  }, 300_000);

  afterAll(async () => {
    await manager?.stop();
    await server?.stop();
    for (const s of sockets) s.destroy();
    silent?.close();
  });

  it('report a clear reason each while the healthy camera keeps streaming', async () => {
    const add = (id: string, url: string) => manager.add(CameraConfigSchema.parse({ id, url, fps: 5 }));
    await add('healthy', server.url('healthy'));
    await waitFor('healthy streaming', () => manager.get('healthy')?.state === 'streaming', 30_000);
    await add('silent', `rtsp://viewer:hush-hush@127.0.0.1:${silentPort}/cam`);
    await add('wrong-password', server.url('secure', wrong));
    await add('right-password', server.url('secure', right));
    const analysedAtStart = manager.get('healthy')?.framesAnalysed ?? 0;
    const cropsAtStart = crops.length;

    const denied = await waitFor(
      'wrong password to fail',
      () => (manager.get('wrong-password')?.state === 'failed' ? manager.get('wrong-password') : undefined),
      30_000,
    );
    expect(denied.lastError).toMatch(/authentication failed/);
    expect(denied.reconnects).toBe(0); // retrying a wrong password only locks accounts

    const hung = await waitFor(
      'silent server to time out',
      () => {
        const s = manager.get('silent');
        return s?.lastError && /timed out/.test(s.lastError) ? s : undefined;
      },
      30_000,
    );
    expect(['backoff', 'connecting']).toContain(hung.state);
    expect(hung.lastError).toMatch(/did not answer within 3 s/);
    await waitFor('silent retried', () => (manager.get('silent')?.reconnects ?? 0) >= 1, 30_000);

    // The right password on the same protected path works.
    await waitFor('right password streaming', () => manager.get('right-password')?.state === 'streaming', 30_000);
    expect(await manager.remove('right-password')).toBe(true);
    const analysedBefore = manager.get('healthy')?.framesAnalysed ?? 0;

    // Meanwhile the healthy camera went on as if nothing happened.
    await sleep(3000);
    const healthy = manager.get('healthy') as CameraStatus;
    expect(healthy.state).toBe('streaming');
    expect(healthy.reconnects).toBe(0);
    expect(healthy.lastError).toBeNull();
    // Frames kept coming through detection (how many depends on how busy this machine is).
    expect(healthy.framesAnalysed).toBeGreaterThan(analysedBefore + 3);
    expect(crops.filter((c) => c.cameraId === 'healthy').length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s.cameraId === 'healthy').map((s) => s.state)).not.toContain('backoff');

    // Credentials never leave the process: not in statuses, not in the logs (ffmpeg's stderr included).
    const everything = [JSON.stringify(statuses), JSON.stringify(manager.list()), ...lines];
    for (const secret of ['Rt-s3cret', 'Wr0ng-s3cret', 'hush-hush']) {
      expect(everything.filter((l) => l.includes(secret))).toEqual([]);
    }
    expect(manager.get('silent')?.url).toBe(`rtsp://***:***@127.0.0.1:${silentPort}/cam`);
    // eslint-disable-next-line no-console -- the reasons are what an operator would read
    console.info(
      `reasons: wrong-password=[${denied.state}] ${denied.lastError}; silent=[${hung.state}] ${hung.lastError}; ` +
        `healthy analysed ${healthy.framesAnalysed - analysedAtStart} frames meanwhile, ${crops.length - cropsAtStart} crops`,
    );
  });
});
