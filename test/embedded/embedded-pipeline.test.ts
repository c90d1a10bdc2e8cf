/**
 * End to end in one process, as `npm start` runs it: real ffmpeg reading the
 * bundled sample video, real face detection and classification, the in-memory
 * bus, SQLite, and the REST API. Bad cameras ride along to prove they fail
 * loudly without stopping anything else.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type AppConfig } from '@crowdlens/config';
import type { CameraStatus } from '@crowdlens/contracts';
import { createLogger, repoRoot } from '@crowdlens/runtime';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

describe('embedded pipeline on the sample video', () => {
  let running: RunningApp;
  let config: AppConfig;
  const logLines: string[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-e2e-'));
    const notVideo = join(dir, 'notes.mp4');
    writeFileSync(notVideo, 'this is a shopping list, not a video\n'.repeat(50));
    config = parseConfig({
      dataDir: dir,
      logLevel: 'info',
      http: { port: 0, host: '127.0.0.1' },
      // k = 1: this test compares every count with SQLite; suppression is tested in test/analytics.
      analytics: { kAnonymity: 1 },
      cameras: [
        { id: 'entrance', name: 'Entrance', url: join(repoRoot(), 'assets/sample.mp4'), fps: 3, realtime: true },
        { id: 'missing', url: join(dir, 'no-such-video.mp4') },
        { id: 'not-video', url: notVideo },
        { id: 'dead-rtsp', url: 'rtsp://admin:supersecret@127.0.0.1:1/stream' },
      ],
    });
    // Capture the process's structured logs to check what they say (and never say).
    const logger = createLogger('info', 'crowdlens', { write: (line: string) => void logLines.push(line) });
    running = await startCrowdLens(config, logger);
  }, 120_000);

  afterAll(async () => {
    await running?.close();
  });

  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${running.url}${path}`);
    return { status: res.status, body: (await res.json()) as T };
  };

  it('bad cameras report a clear reason while the API keeps serving', async () => {
    const cams = await until(
      'bad cameras to settle',
      async () => {
        const { body } = await get<{ cameras: CameraStatus[] }>('/api/cameras');
        const bad = body.cameras.filter((c) => c.cameraId !== 'entrance');
        return bad.every((c) => c.lastError) ? body.cameras : undefined;
      },
      60_000,
    );
    const by = Object.fromEntries(cams.map((c) => [c.cameraId, c]));
    expect(by.missing!.state).toBe('failed');
    expect(by.missing!.lastError).toMatch(/not found|no such file/i);
    expect(by['not-video']!.state).toBe('failed');
    expect(by['not-video']!.lastError).toMatch(/not a (valid )?video|invalid data|unsupported/i);
    expect(['backoff', 'failed', 'connecting']).toContain(by['dead-rtsp']!.state);
    expect(by['dead-rtsp']!.lastError).toMatch(/refused|unreachable|timed? ?out/i);
    // Credentials never leave the process.
    expect(JSON.stringify(cams)).not.toContain('supersecret');
    expect(by['dead-rtsp']!.url).toBe('rtsp://***:***@127.0.0.1:1/stream');
    expect((await get('/health')).status).toBe(200);
  });

  it('counts faces and both genders from the sample video, the same in SQLite and over REST', async () => {
    await until(
      'the sample video to finish',
      async () => {
        const { body } = await get<{ cameras: CameraStatus[] }>('/api/cameras');
        return body.cameras.find((c) => c.cameraId === 'entrance')?.state === 'stopped' ? true : undefined;
      },
      150_000,
    );
    // Let the last crops through inference and into the store.
    let last = -1;
    const stats = await until(
      'counts to settle',
      async () => {
        const { body } = await get<{ totals: { faces: number }; series: unknown[] }>('/api/stats?camera=entrance');
        if (body.totals.faces > 0 && body.totals.faces === last) return body;
        last = body.totals.faces;
        await sleep(1500);
        return undefined;
      },
      60_000,
    );
    const rest = stats as unknown as {
      totals: { faces: number; visitors: number; male: number; female: number; unknown: number; maleShare: number };
      series: { cameraId: string; faces: number }[];
    };
    expect(rest.totals.faces).toBeGreaterThanOrEqual(20);
    expect(rest.totals.visitors).toBeGreaterThanOrEqual(5);
    expect(rest.totals.male).toBeGreaterThan(0);
    expect(rest.totals.female).toBeGreaterThan(0);
    expect(rest.totals.maleShare).toBeGreaterThan(0);
    expect(rest.totals.maleShare).toBeLessThan(1);
    expect(rest.series.every((r) => r.cameraId === 'entrance')).toBe(true);

    // What landed in SQLite, read with a separate connection.
    const db = new Database(config.store.type === 'sqlite' ? config.store.path : '', { readonly: true });
    const faces = db
      .prepare(`SELECT COALESCE(SUM(faces), 0) AS n FROM buckets WHERE size = 'minute' AND camera_id = 'entrance'`)
      .get() as {
      n: number;
    };
    const tracks = db.prepare(`SELECT COUNT(*) AS n FROM tracks WHERE camera_id = 'entrance'`).get() as { n: number };
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map(
      (t) => t.name,
    );
    db.close();
    expect(faces.n).toBe(rest.totals.faces);
    expect(tracks.n).toBe(rest.totals.visitors);
    // Privacy: aggregates and anonymous track sums only, no image or embedding column anywhere.
    // The alert outbox holds webhook bodies (rule, camera id and name, values); the rollups, counts.
    expect(tables.sort()).toEqual([
      'alert_outbox',
      'applied_predictions',
      'applied_track_events',
      'buckets',
      'camera_watermarks',
      'line_crossing_hours',
      'line_crossings',
      'schema_migrations',
      'track_event_watermarks',
      'tracks',
      'zone_occupancy_rollups',
      'zone_visit_hours',
      'zone_visits',
    ]);

    const dashboard = await fetch(`${running.url}/`);
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain('CrowdLens');
    expect(logLines.join('')).not.toContain('supersecret');
  });

  it('rejects bad stats parameters with 400 and a reason', async () => {
    const bad = await get<{ message: string[] }>('/api/stats?bucket=fortnight');
    expect(bad.status).toBe(400);
    expect(bad.body.message.join(' ')).toContain('bucket');
    const range = await get<{ message: string[] }>('/api/stats?from=2026-01-02&to=2026-01-01');
    expect(range.status).toBe(400);
    expect(range.body.message.join(' ')).toContain('from must be before to');
    const unknown = await get<{ message: string[] }>('/api/stats?camera=nope');
    expect(unknown.status).toBe(400);
    expect(unknown.body.message.join(' ')).toContain('unknown camera');
    const junk = await get<{ message: string[] }>('/api/stats?from=yesterday-ish');
    expect(junk.status).toBe(400);
  });
});
