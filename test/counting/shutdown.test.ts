/**
 * Open tracks are closed when CrowdLens stops: a person still in view at
 * shutdown is stored as ended ("shutdown") with their stay up to then, in the
 * embedded mode where ingest and analytics shut down in one process.
 */
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '@crowdlens/config';
import { createLogger } from '@crowdlens/runtime';
import { startCrowdLens } from '../../apps/embedded/src/bootstrap';
import { makeStillPersonClip } from '../../bench/counting/footage';
import { until } from '../support/wait';

describe('shutdown with a person in view (embedded)', () => {
  it('ends the open track with reason shutdown and keeps the stay so far', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-shutdown-'));
    const clip = makeStillPersonClip(join(dir, 'still.mp4'), 6);
    const config = parseConfig({
      dataDir: dir,
      logLevel: 'warn',
      http: { port: 0, host: '127.0.0.1' },
      analytics: { kAnonymity: 1 },
      // Looped in real time: the person never leaves; only the shutdown ends the track.
      cameras: [{ id: 'still', url: clip, fps: 5, loop: true, realtime: true }],
    });
    const running = await startCrowdLens(config, createLogger('warn', 'crowdlens'));
    const dbPath = config.store.type === 'sqlite' ? config.store.path : '';
    const openTrack = ():
      { first_ts: number; last_ts: number; ended: number; end_reason: string | null } | undefined => {
      const db = new Database(dbPath, { readonly: true });
      try {
        return db.prepare(`SELECT first_ts, last_ts, ended, end_reason FROM tracks WHERE camera_id = 'still'`).get() as
          { first_ts: number; last_ts: number; ended: number; end_reason: string | null } | undefined;
      } finally {
        db.close();
      }
    };
    let before: ReturnType<typeof openTrack>;
    try {
      // The visitor is on record (started) and still open; then they stay a few seconds more.
      before = await until(
        'the person to be a visitor',
        async () => {
          const t = openTrack();
          return t && t.ended === 0 ? t : undefined;
        },
        120_000,
      );
      await new Promise((r) => setTimeout(r, 5000));
    } finally {
      await running.close();
    }
    const after = openTrack();
    expect(after).toMatchObject({ ended: 1, end_reason: 'shutdown' });
    expect(Number(after?.first_ts)).toBe(Number(before?.first_ts));
    // The stay up to the shutdown, not just up to the started event (heartbeats come every 30 s only).
    expect(Number(after?.last_ts) - Number(before?.last_ts)).toBeGreaterThanOrEqual(4000);
  }, 180_000);
});
