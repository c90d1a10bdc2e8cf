/**
 * The analytics API through a real process: predictions go in over the bus,
 * land in SQLite, and come back over HTTP with auth, roles, validation,
 * rollups, k-anonymity and CSV.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@crowdlens/config';
import { GENDER_PREDICTIONS_TOPIC } from '@crowdlens/contracts';
import { personPrediction } from '../support/predictions';
import { MESSAGE_BUS, type InMemoryBus } from '@crowdlens/bus';
import { hashPassword } from '@crowdlens/common';
import { createLogger } from '@crowdlens/runtime';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 8, 0, 0); // a Friday, 08:00 UTC
const VIEWER_KEY = 'viewer-key-0123456789';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('analytics API', () => {
  let running: RunningApp;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-api-'));
    const config = parseConfig({
      role: 'analytics',
      dataDir: dir,
      http: { port: 0, host: '127.0.0.1' },
      cameras: [
        { id: 'door', name: 'Front door', url: 'rtsp://u:topsecret@10.1.1.1/door', group: 'store-a' },
        { id: 'till', name: 'Tills', url: 'rtsp://10.1.1.2/till', group: 'store-a' },
        { id: 'mall', name: 'Mall entrance', url: 'rtsp://10.2.1.1/mall', group: 'store-b' },
      ],
      analytics: { kAnonymity: 3, minTrackEvidence: 2, minVoteMargin: 0.1, allowedLatenessMs: 24 * HOUR },
      auth: {
        users: [
          { username: 'vera', role: 'viewer', passwordHash: hashPassword('vera-pass') },
          { username: 'otto', role: 'operator', passwordHash: hashPassword('otto-pass') },
          { username: 'ada', role: 'admin', passwordHash: hashPassword('ada-pass') },
        ],
        apiKeys: [{ name: 'bi-export', role: 'viewer', keySha256: sha(VIEWER_KEY) }],
      },
      rateLimit: { perSecond: 1000, burst: 1000 },
    });
    running = await startCrowdLens(config, createLogger('warn'));

    // Hour 0: 5 people at the door (3 men, 2 women); hour 1: 4 women at the tills;
    // hour 2: a single man at the mall (below k=3: suppressed).
    const bus = running.app.get<InMemoryBus>(MESSAGE_BUS);
    const people: [string, string, number, number, number][] = [
      ['door', 'm1', 0, 0.9, 20_000],
      ['door', 'm2', 60_000, 0.8, 5_000],
      ['door', 'm3', 120_000, 0.95, 200_000],
      ['door', 'f1', 180_000, 0.1, 40_000],
      ['door', 'f2', 240_000, 0.05, 90_000],
      ['till', 'f3', HOUR, 0.1, 10_000],
      ['till', 'f4', HOUR + 1000, 0.2, 10_000],
      ['till', 'f5', HOUR + 2000, 0.15, 10_000],
      ['till', 'f6', HOUR + 3000, 0.05, 10_000],
      ['mall', 'm9', 2 * HOUR, 0.9, 1_000],
    ];
    for (const [cam, track, offset, p, dwell] of people) {
      await bus.publish(GENDER_PREDICTIONS_TOPIC, personPrediction(`${track}-a`, cam, track, T0 + offset, p));
      await bus.publish(GENDER_PREDICTIONS_TOPIC, personPrediction(`${track}-b`, cam, track, T0 + offset + dwell, p));
    }
    await bus.idle();

    for (const [user, pass] of [
      ['vera', 'vera-pass'],
      ['otto', 'otto-pass'],
      ['ada', 'ada-pass'],
    ]) {
      const res = await fetch(`${running.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: user, password: pass }),
      });
      expect(res.status).toBe(200);
      tokens[user!] = ((await res.json()) as { token: string }).token;
    }
  }, 60_000);

  afterAll(async () => {
    await running?.close();
  });

  const call = (path: string, as?: string, init: RequestInit = {}) =>
    fetch(`${running.url}${path}`, {
      ...init,
      headers: { ...(as ? { authorization: `Bearer ${tokens[as] ?? as}` } : {}), ...(init.headers ?? {}) },
    });
  const range = `from=${T0}&to=${T0 + 3 * HOUR}`;

  it('requires auth everywhere except /health and /ready', async () => {
    expect((await call('/health')).status).toBe(200);
    expect((await call('/ready')).status).toBe(200);
    for (const path of ['/api/stats', '/api/cameras', '/metrics', '/api/live', '/api/docs/openapi.json']) {
      expect((await call(path)).status, path).toBe(401);
    }
    expect((await call('/api/stats', 'not-a-token')).status).toBe(401);
    const wrong = await fetch(`${running.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'vera', password: 'guess' }),
    });
    expect(wrong.status).toBe(401);
  });

  it('enforces roles: viewers see stats, operators camera health and metrics', async () => {
    expect((await call('/api/stats', 'vera')).status).toBe(200);
    expect((await call('/api/cameras', 'vera')).status).toBe(403);
    expect((await call('/metrics', 'vera')).status).toBe(403);
    const cams = await call('/api/cameras', 'otto');
    expect(cams.status).toBe(200);
    const body = JSON.stringify(await cams.json());
    expect(body).toContain('"door"');
    expect(body).not.toContain('topsecret');
    const metrics = await call('/metrics', 'otto');
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('crowdlens_analytics_predictions_applied_total 20');
  });

  it('accepts API keys in X-API-Key or as a bearer token, with their role', async () => {
    expect((await call('/api/stats', undefined, { headers: { 'x-api-key': VIEWER_KEY } })).status).toBe(200);
    expect((await call('/api/stats', VIEWER_KEY)).status).toBe(200);
    expect((await call('/api/cameras', VIEWER_KEY)).status).toBe(403);
    expect((await call('/api/stats', undefined, { headers: { 'x-api-key': 'wrong' } })).status).toBe(401);
  });

  it('returns hourly rollups with k-anonymity suppression', async () => {
    const res = await call(`/api/stats?${range}&bucket=hour`, 'vera');
    const body = (await res.json()) as {
      totals: Record<string, number | boolean | null>;
      series: {
        cameraId: string;
        bucketStart: number;
        suppressed: boolean;
        visitors: number | null;
        male: number | null;
        female: number | null;
        faces: number | null;
      }[];
    };
    expect(body.series).toEqual([
      {
        cameraId: 'door',
        bucketStart: T0,
        suppressed: false,
        faces: 10,
        visitors: 5,
        male: 3,
        female: 2,
        unknown: 0,
        coverage: 1,
      },
      {
        cameraId: 'till',
        bucketStart: T0 + HOUR,
        suppressed: false,
        faces: 8,
        visitors: 4,
        male: 0,
        female: 4,
        unknown: 0,
        coverage: 1,
      },
      {
        cameraId: 'mall',
        bucketStart: T0 + 2 * HOUR,
        suppressed: true,
        faces: null,
        visitors: null,
        male: null,
        female: null,
        unknown: null,
        coverage: null,
      },
    ]);
    // The suppressed mall bucket is left out of the totals too, or it could be recovered by subtraction.
    expect(body.totals).toMatchObject({ visitors: 9, male: 3, female: 6, coverage: 1, maleShare: 1 / 3 });
    const day = (await (await call(`/api/stats?${range}&bucket=day&group=store-a`, 'vera')).json()) as {
      series: { visitors: number }[];
    };
    expect(day.series.map((r) => r.visitors).sort()).toEqual([4, 5]);
    const minute = (await (await call(`/api/stats?${range}&bucket=minute&camera=door`, 'vera')).json()) as {
      series: { suppressed: boolean }[];
    };
    // one person per minute at the door: every minute bucket is below k
    expect(minute.series.length).toBeGreaterThan(0);
    expect(minute.series.every((r) => r.suppressed)).toBe(true);
  });

  it('exports the same rows as CSV', async () => {
    const res = await call(`/api/stats/csv?${range}&bucket=hour`, 'vera');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const lines = (await res.text()).trim().split('\n');
    expect(lines[0]).toBe('bucket_start,camera_id,group,suppressed,faces,visitors,female,male,unknown,coverage');
    expect(lines.slice(1)).toEqual([
      `${new Date(T0).toISOString()},door,store-a,false,10,5,2,3,0,1`,
      `${new Date(T0 + HOUR).toISOString()},till,store-a,false,8,4,4,0,0,1`,
      `${new Date(T0 + 2 * HOUR).toISOString()},mall,store-b,true,,,,,,`,
    ]);
  });

  it('reports peak hours in a time zone and the dwell distribution', async () => {
    const peak = (await (await call(`/api/stats/peak-hours?${range}&tz=Europe/Paris`, 'vera')).json()) as {
      hours: { hour: number; visitors: number }[];
    };
    expect(peak.hours).toEqual([
      { hour: 9, visitors: 5, avgVisitorsPerDay: 5 },
      { hour: 10, visitors: 4, avgVisitorsPerDay: 4 },
    ]);
    const dwell = (await (await call(`/api/stats/dwell?${range}&group=store-a`, 'vera')).json()) as {
      bins: { label: string; tracks: number | null }[];
    };
    // store-a dwell: 5s,10s,10s,10s,10s,20s,40s,90s,200s -> 0-10s: 1, 10-30s: 5 ...; bins under k are withheld
    expect(dwell.bins.map((b) => b.tracks)).toEqual([null, 5, null, null, null, null, null]);
  });

  it('rejects bad parameters with 400 and the reason', async () => {
    const cases: [string, string][] = [
      ['/api/stats?bucket=week', 'bucket'],
      ['/api/stats?from=tomorrow-ish', 'from'],
      [`/api/stats?from=${T0 + HOUR}&to=${T0}`, 'from must be before to'],
      [`/api/stats?from=${T0}&to=${T0 + 30 * 24 * HOUR}&bucket=minute`, 'at most 7 days'],
      ['/api/stats?camera=nope', 'unknown camera'],
      ['/api/stats?group=store-z', 'unknown group'],
      ['/api/stats?colour=red', 'colour'],
      ['/api/stats/peak-hours?tz=Mars/Olympus', 'time zone'],
    ];
    for (const [path, reason] of cases) {
      const res = await call(path, 'vera');
      expect(res.status, path).toBe(400);
      expect(JSON.stringify(await res.json()), path).toContain(reason);
    }
  });

  it('serves an OpenAPI document generated from the validation schemas', async () => {
    const doc = (await (await call('/api/docs/openapi.json', 'vera')).json()) as {
      paths: Record<string, { get?: { parameters?: { name: string }[] } }>;
    };
    expect(doc.paths['/api/stats']!.get!.parameters!.map((p) => p.name)).toEqual([
      'camera',
      'group',
      'from',
      'to',
      'bucket',
    ]);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/stats/csv', '/api/cameras', '/health']));
    expect((await call('/api/docs', 'vera')).status).toBe(200);
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After once a client exceeds its budget', async () => {
    const config = parseConfig({
      role: 'analytics',
      dataDir: mkdtempSync(join(tmpdir(), 'crowdlens-rl-')),
      http: { port: 0, host: '127.0.0.1' },
      auth: { apiKeys: [{ name: 'k', role: 'viewer', keySha256: sha(VIEWER_KEY) }] },
      rateLimit: { perSecond: 0.5, burst: 3 },
    });
    const app = await startCrowdLens(config, createLogger('warn'));
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${app.url}/api/stats`, { headers: { 'x-api-key': VIEWER_KEY } });
        statuses.push(res.status);
        if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect((await fetch(`${app.url}/health`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
