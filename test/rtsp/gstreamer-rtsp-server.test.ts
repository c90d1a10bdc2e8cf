/**
 * Ingest against an RTSP server that is not the project's own relay: GStreamer's gst-rtsp-server
 * (Debian packages, test/support/gst-rtsp-server.py) serving the sample video's H.264 as it is.
 * Frames and face crops must arrive, and killing the server must show as a lost stream.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraConfigSchema } from '@crowdlens/config';
import type { CameraStatus, FaceCrop } from '@crowdlens/contracts';
import { CameraManager } from '@crowdlens/vision';
import { startTestCameraManager } from './support/test-camera-manager';
import { REPO_ROOT } from '../support/deploy-scripts';
import { freePort, SAMPLE_VIDEO } from './support/rtsp-server';
import { capturingLogger, waitFor } from './support/wait';

const SCRIPT = join(REPO_ROOT, 'test/support/gst-rtsp-server.py');
// The Debian GObject bindings live in the system Python, whatever python3 comes first on PATH.
const PYTHON = '/usr/bin/python3';

/** Starts the GStreamer server in its own process group; resolves with its URL once it listens. */
async function startGstServer(port: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(PYTHON, [SCRIPT, '--port', String(port), '--path', '/sample', '--file', SAMPLE_VIDEO], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gst-rtsp-server did not start in 60 s: ${stderr}`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^listening (rtsp:\/\/\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `gst-rtsp-server exited (code ${code}): ${stderr.trim()}\n` +
            'GStreamer and its RTSP server come from Debian: bash scripts/setup-system.sh',
        ),
      );
    });
  });
  return { child, url };
}

function killGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

describe('ingest from GStreamer’s RTSP server', () => {
  let gst: { child: ChildProcess; url: string } | undefined;
  let manager: CameraManager;
  const crops: FaceCrop[] = [];
  const statuses: CameraStatus[] = [];
  const { logger } = capturingLogger('info');

  beforeAll(async () => {
    expect(existsSync(PYTHON), `${PYTHON} is missing: bash scripts/setup-system.sh`).toBe(true);
    gst = await startGstServer(await freePort());
    manager = await startTestCameraManager({ logger, crops, statuses });
  }, 300_000);

  afterAll(async () => {
    await manager?.stop();
    killGroup(gst?.child, 'SIGKILL');
  });

  it('streams frames and face crops, and reports the stream lost when the server dies', async () => {
    await manager.add(CameraConfigSchema.parse({ id: 'gst', url: gst!.url, fps: 5 }));
    await waitFor('streaming', () => manager.get('gst')?.state === 'streaming', 30_000);
    await waitFor('face crops', () => (crops.length >= 3 ? crops : undefined), 60_000);
    const live = manager.get('gst') as CameraStatus;
    expect(live.framesIn).toBeGreaterThan(10);
    expect(live.framesAnalysed).toBeGreaterThan(0);
    expect(live.facesDetected).toBeGreaterThan(0);
    expect(crops.every((c) => c.cameraId === 'gst')).toBe(true);
    expect(live.lastError).toBeNull();

    // No goodbye: the server process is gone, as a camera losing power would be.
    killGroup(gst!.child, 'SIGKILL');
    const lost = await waitFor(
      'stream lost',
      () => {
        const s = manager.get('gst');
        return s && s.state !== 'streaming' && s.lastError ? s : undefined;
      },
      30_000,
    );
    expect(['backoff', 'connecting']).toContain(lost.state);
    expect(lost.lastError).toMatch(/connection (lost|refused)|stream ended|stalled|timed out/);
    expect(statuses.filter((s) => s.cameraId === 'gst').map((s) => s.state)).toContain('backoff');
  });
});
