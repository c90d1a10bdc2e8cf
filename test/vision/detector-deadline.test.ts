/**
 * A detector worker that hangs (issue 14 item 12): real worker threads running a test-only worker
 * script that busy-loops forever on a frame. The pool fails the job at detector.jobTimeoutMs,
 * terminates and replaces the worker; the camera says so in its status; shutdown ends.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CameraConfigSchema,
  CountingConfigSchema,
  DetectorConfigSchema,
  TrackerConfigSchema,
  type DetectorConfigInput,
} from '@crowdlens/config';
import { CameraStatusSchema, type CameraStatus } from '@crowdlens/contracts';
import { CameraManager, DetectionTimeoutError, DetectorWorkerPool, type Frame } from '@crowdlens/vision';
import { ffmpegChildren, waitFor } from '../rtsp/support/wait';

const HANGING_WORKER = resolve(__dirname, '../fixtures/detector/hanging-detector-worker.mjs');
const SAMPLE = resolve(__dirname, '../../assets/sample.mp4');
const logger = pino({ level: 'silent' });

function pool(faces: DetectorConfigInput, hang: string): DetectorWorkerPool {
  // Read by each worker when it starts (a worker gets a copy of the environment).
  process.env.CROWDLENS_TEST_HANG = hang;
  return new DetectorWorkerPool(
    { faces: DetectorConfigSchema.parse(faces), people: null },
    { logger, workerScript: HANGING_WORKER },
  );
}

const frame = (seq: number): Frame => ({
  data: Buffer.alloc(32 * 24 * 3),
  width: 32,
  height: 24,
  ts: Date.now(),
  monoTs: performance.now(),
  seq,
});

describe('detector.jobTimeoutMs: a hung detector worker', () => {
  afterEach(() => {
    delete process.env.CROWDLENS_TEST_HANG;
  });

  it('fails the job at its deadline with a clear error, replaces the worker, and the pool goes on', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'crowdlens-hang-')), 'hung');
    const detector = pool({ workers: 1, jobTimeoutMs: 400 }, `once:${marker}`);
    await detector.load();
    try {
      const hung = detector.detect(frame(0));
      await expect(hung).rejects.toBeInstanceOf(DetectionTimeoutError);
      await expect(hung).rejects.toThrow(
        'detection did not finish within 400 ms (detector.jobTimeoutMs); the detector worker was restarted',
      );
      // The only worker was the hung one: this answer comes from its replacement.
      await expect(detector.detect(frame(1))).resolves.toEqual({ faces: [], people: [] });
    } finally {
      await detector.close();
    }
  });

  it('a frame waiting behind the hung one is detected by the replacement, not failed with it', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'crowdlens-hang-')), 'hung');
    const detector = pool({ workers: 1, jobTimeoutMs: 400 }, `once:${marker}`);
    await detector.load();
    try {
      const hung = detector.detect(frame(0));
      const queued = detector.detect(frame(1));
      await expect(hung).rejects.toBeInstanceOf(DetectionTimeoutError);
      await expect(queued).resolves.toEqual({ faces: [], people: [] });
    } finally {
      await detector.close();
    }
  });

  it('a camera whose detector hangs shows the error in its status while streaming, and stop() ends', async () => {
    const statuses: CameraStatus[] = [];
    const manager = new CameraManager({
      logger,
      detector: DetectorConfigSchema.parse({ workers: 1 }),
      counting: CountingConfigSchema.parse({ unit: 'faces' }),
      tracker: TrackerConfigSchema.parse({}),
      motion: { enabled: false },
      cropSink: async () => undefined,
      trackEventSink: async () => undefined,
      statusSink: (s) => void statuses.push(s),
      sceneDetector: pool({ workers: 1, jobTimeoutMs: 300 }, 'always'),
    });
    await manager.start();
    await manager.add(CameraConfigSchema.parse({ id: 'door', url: SAMPLE, fps: 2, loop: true }));
    const shown = await waitFor(
      'the detection timeout in the camera status',
      () => {
        const s = manager.get('door');
        return s?.lastError?.includes('detection did not finish within 300 ms') ? s : undefined;
      },
      60_000,
    );
    expect(shown.state).toBe('streaming');
    expect(shown.lastError).toBe(
      'detection failed: detection did not finish within 300 ms (detector.jobTimeoutMs); the detector worker was restarted',
    );
    // Published at once, not only with the next periodic status.
    expect(statuses.some((s) => s.lastError === shown.lastError && CameraStatusSchema.safeParse(s).success)).toBe(true);
    expect(manager.details('door')?.framesDropped).toBeGreaterThan(0);
    // Before the deadline, a hung job held the pipeline and stop() waited for it forever.
    await manager.stop();
    expect(ffmpegChildren()).toEqual([]);
  });
});
