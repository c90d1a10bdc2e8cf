/**
 * The store comparison (/api/stats/groups) through a real process: predictions
 * go in over the bus, land in SQLite, and each store's row must equal what
 * /api/stats says for that store, with the same k-anonymity, plus mean dwell.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 8, 0, 0);
const K = 3;

interface Totals {
  suppressed: boolean;
  faces: number | null;
  visitors: number | null;
  male: number | null;
  female: number | null;
  unknown: number | null;
  coverage: number | null;
  maleShare: number | null;
  femaleShare: number | null;
}
interface GroupRow extends Totals {
  group: string | null;
  label: string;
  cameras: string[];
  visitorShares: { female: number; male: number; unknown: number } | null;
  meanDwellMs: number | null;
}
interface GroupsBody {
  from: number;
  to: number;
  bucket: string;
  bucketMs: number;
  kAnonymity: number;
  groups: GroupRow[];
}
interface StatsBody {
  totals: Totals;
}

const TOTAL_KEYS = [
  'suppressed',
  'faces',
  'visitors',
  'male',
  'female',
  'unknown',
  'coverage',
  'maleShare',
  'femaleShare',
] as const;
const totalsOf = (row: GroupRow): Totals =>
  Object.fromEntries(TOTAL_KEYS.map((key) => [key, row[key]])) as unknown as Totals;

const UNSURE = 0.52; // within the vote margin of 50/50: counted as a visitor of unknown gender

/**
 * [camera, track, first sighting (offset from T0), P(male), dwell ms]; each person gives two crops,
 * at the first sighting and dwell later, except dwell null: one crop, too little evidence (unknown).
 */
const PEOPLE: [string, string, number, number, number | null][] = [
  // store-a, hour 0 at the door: 3 men, 2 women, each alone in their minute.
  ['door', 'a-m1', 0, 0.9, 20_000],
  ['door', 'a-m2', 1 * MIN, 0.8, 5_000],
  ['door', 'a-m3', 2 * MIN, 0.95, 200_000],
  ['door', 'a-f1', 3 * MIN, 0.1, 40_000],
  ['door', 'a-f2', 4 * MIN, 0.05, 90_000],
  // store-a, hour 1 at the tills: 4 women within seconds, one minute bucket of 4.
  ['till', 'a-f3', HOUR, 0.1, 10_000],
  ['till', 'a-f4', HOUR + 1000, 0.2, 10_000],
  ['till', 'a-f5', HOUR + 2000, 0.15, 10_000],
  ['till', 'a-f6', HOUR + 3000, 0.05, 10_000],
  // store-a, hour 2: a lone visitor, below k in every bucket.
  ['till', 'a-u1', 2 * HOUR, 0.9, null],
  // store-b, hour 0: a man, a woman, an unsure one, each alone in their minute.
  ['mall', 'b-m1', 10 * MIN, 0.9, 30_000],
  ['mall', 'b-f1', 11 * MIN, 0.1, 60_000],
  ['mall', 'b-u1', 12 * MIN, UNSURE, 15_000],
  // store-c: two people all day, below k however it is bucketed.
  ['dock', 'c-m1', 30 * MIN, 0.9, 5_000],
  ['dock', 'c-f1', 31 * MIN, 0.1, 5_000],
  // no group: a configured camera without one, and a camera the config no longer lists.
  ['kiosk', 'n-m1', HOUR + 20 * MIN, 0.85, 12_000],
  ['kiosk', 'n-f1', HOUR + 20 * MIN + 1000, 0.15, 12_000],
  ['kiosk', 'n-f2', HOUR + 20 * MIN + 2000, 0.1, 12_000],
  ['ghost', 'n-m2', HOUR + 20 * MIN, 0.9, 8_000],
];

describe('store comparison API', () => {
  let running: RunningApp;
  let dataDir: string;
  let token = '';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'crowdlens-groups-'));
    const config = parseConfig({
      role: 'analytics',
      dataDir,
      http: { port: 0, host: '127.0.0.1' },
      cameras: [
        { id: 'door', url: 'rtsp://10.1.1.1/door', group: 'store-a' },
        { id: 'till', url: 'rtsp://10.1.1.2/till', group: 'store-a' },
        { id: 'mall', url: 'rtsp://10.2.1.1/mall', group: 'store-b' },
        { id: 'dock', url: 'rtsp://10.3.1.1/dock', group: 'store-c' },
        { id: 'kiosk', url: 'rtsp://10.4.1.1/kiosk' },
      ],
      analytics: { kAnonymity: K, minTrackEvidence: 2, minVoteMargin: 0.1, allowedLatenessMs: 24 * HOUR },
      auth: { users: [{ username: 'vera', role: 'viewer', passwordHash: hashPassword('vera-pass') }] },
      rateLimit: { perSecond: 1000, burst: 1000 },
    });
    running = await startCrowdLens(config, createLogger('warn'));

    const bus = running.app.get<InMemoryBus>(MESSAGE_BUS);
    for (const [cam, track, offset, p, dwell] of PEOPLE) {
      await bus.publish(GENDER_PREDICTIONS_TOPIC, personPrediction(`${track}-a`, cam, track, T0 + offset, p));
      if (dwell !== null)
        await bus.publish(GENDER_PREDICTIONS_TOPIC, personPrediction(`${track}-b`, cam, track, T0 + offset + dwell, p));
    }
    await bus.idle();

    const login = await fetch(`${running.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'vera', password: 'vera-pass' }),
    });
    expect(login.status).toBe(200);
    token = ((await login.json()) as { token: string }).token;
  }, 60_000);

  afterAll(async () => {
    await running?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const call = (path: string, auth = true) =>
    fetch(`${running.url}${path}`, { headers: auth ? { authorization: `Bearer ${token}` } : {} });
  const json = async <T>(path: string): Promise<T> => {
    const res = await call(path);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  const range = `from=${T0}&to=${T0 + 3 * HOUR}`;
  const byLabel = (body: GroupsBody) => new Map(body.groups.map((g) => [g.label, g]));

  it('needs a signed-in user; the viewer role is enough', async () => {
    expect((await call(`/api/stats/groups?${range}`, false)).status).toBe(401);
    expect((await call(`/api/stats/groups/csv?${range}`, false)).status).toBe(401);
    expect((await call(`/api/stats/groups?${range}`)).status).toBe(200);
  });

  it('returns one row per store, the cameras without a group last', async () => {
    const body = await json<GroupsBody>(`/api/stats/groups?${range}&bucket=hour`);
    expect(body).toMatchObject({ from: T0, to: T0 + 3 * HOUR, bucket: 'hour', bucketMs: HOUR, kAnonymity: K });
    expect(body.groups.map((g) => [g.group, g.label, g.cameras])).toEqual([
      ['store-a', 'store-a', ['door', 'till']],
      ['store-b', 'store-b', ['mall']],
      ['store-c', 'store-c', ['dock']],
      [null, '(no group)', ['ghost', 'kiosk']],
    ]);
  });

  it('gives each store exactly the totals /api/stats gives for that store, for every bucket size', async () => {
    for (const bucket of ['minute', 'hour', 'day']) {
      const body = await json<GroupsBody>(`/api/stats/groups?${range}&bucket=${bucket}`);
      for (const row of body.groups.filter((g) => g.group !== null)) {
        const stats = await json<StatsBody>(`/api/stats?${range}&bucket=${bucket}&group=${row.group}`);
        expect(totalsOf(row), `${row.label} per ${bucket}`).toEqual(stats.totals);
      }
      // The ghost camera is unknown to /api/stats' filter; its lone visitor is suppressed either way.
      const kiosk = await json<StatsBody>(`/api/stats?${range}&bucket=${bucket}&camera=kiosk`);
      expect(totalsOf(byLabel(body).get('(no group)')!), `(no group) per ${bucket}`).toEqual(kiosk.totals);
    }
  });

  it('counts visitors, gender shares, faces and mean dwell per store by the hour', async () => {
    const rows = byLabel(await json<GroupsBody>(`/api/stats/groups?${range}&bucket=hour`));
    // store-a: 5 at the door + 4 at the tills; the lone visitor of hour 2 is a suppressed bucket,
    // left out of the counts and out of the mean dwell: (20+5+200+40+90+4×10) s / 9.
    expect(rows.get('store-a')).toMatchObject({
      suppressed: false,
      faces: 18,
      visitors: 9,
      male: 3,
      female: 6,
      unknown: 0,
      coverage: 1,
      visitorShares: { female: 6 / 9, male: 3 / 9, unknown: 0 },
      meanDwellMs: Math.round(395_000 / 9),
    });
    expect(rows.get('store-b')).toMatchObject({
      suppressed: false,
      faces: 6,
      visitors: 3,
      male: 1,
      female: 1,
      unknown: 1,
      // One of the three is unknown: the 50/50 split is of the two thirds decided.
      coverage: 2 / 3,
      maleShare: 0.5,
      femaleShare: 0.5,
      visitorShares: { female: 1 / 3, male: 1 / 3, unknown: 1 / 3 },
      meanDwellMs: 35_000,
    });
    expect(rows.get('(no group)')).toMatchObject({
      visitors: 3,
      male: 1,
      female: 2,
      faces: 6,
      meanDwellMs: 12_000,
    });
  });

  it('flags a store under k without any number, and keeps its people out of every total', async () => {
    const body = await json<GroupsBody>(`/api/stats/groups?${range}&bucket=hour`);
    expect(byLabel(body).get('store-c')).toEqual({
      group: 'store-c',
      label: 'store-c',
      cameras: ['dock'],
      suppressed: true,
      faces: null,
      visitors: null,
      male: null,
      female: null,
      unknown: null,
      coverage: null,
      maleShare: null,
      femaleShare: null,
      visitorShares: null,
      meanDwellMs: null,
    });
    // The stores' visitors add up to the all-camera total, which leaves suppressed buckets out too.
    const all = await json<StatsBody>(`/api/stats?${range}&bucket=hour`);
    const shown = body.groups.filter((g) => !g.suppressed);
    expect(shown.reduce((n, g) => n + g.visitors!, 0)).toBe(all.totals.visitors);
    expect(all.totals.visitors).toBe(15);
    expect(shown.reduce((n, g) => n + g.faces!, 0)).toBe(all.totals.faces);
  });

  it('suppresses per bucket as /api/stats does: by the minute, people alone in their minute vanish', async () => {
    const rows = byLabel(await json<GroupsBody>(`/api/stats/groups?${range}&bucket=minute`));
    // store-a keeps only the minute with the 4 women at the tills; their dwell is 10 s each.
    expect(rows.get('store-a')).toMatchObject({ visitors: 4, female: 4, male: 0, faces: 8, meanDwellMs: 10_000 });
    expect(rows.get('store-b')).toMatchObject({ suppressed: true, visitors: null, meanDwellMs: null });
    expect(rows.get('(no group)')).toMatchObject({ visitors: 3, meanDwellMs: 12_000 });
  });

  it('limits the comparison to the stores asked for', async () => {
    const body = await json<GroupsBody>(`/api/stats/groups?${range}&bucket=hour&group=store-b,store-a`);
    expect(body.groups.map((g) => g.label)).toEqual(['store-a', 'store-b']);
  });

  it('exports the same rows as CSV', async () => {
    const res = await call(`/api/stats/groups/csv?${range}&bucket=hour`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toContain('crowdlens-stores.csv');
    expect((await res.text()).trim().split('\n')).toEqual([
      'group,cameras,suppressed,faces,visitors,female,male,unknown,coverage,mean_dwell_s',
      `store-a,2,false,18,9,6,3,0,1,${(Math.round(395_000 / 9) / 1000).toFixed(1)}`,
      'store-b,1,false,6,3,1,1,1,0.6667,35.0',
      'store-c,1,true,,,,,,,',
      '(no group),2,false,6,3,2,1,0,1,12.0',
    ]);
  });

  it('rejects bad parameters with 400 and the reason', async () => {
    const cases: [string, string][] = [
      ['/api/stats/groups?bucket=week', 'bucket'],
      ['/api/stats/groups?from=tomorrow-ish', 'from'],
      [`/api/stats/groups?from=${T0 + HOUR}&to=${T0}`, 'from must be before to'],
      [`/api/stats/groups?from=${T0}&to=${T0 + 30 * 24 * HOUR}`, 'at most 7 days'],
      ['/api/stats/groups?group=store-z', 'unknown group'],
      // A comparison is across cameras: a camera filter is not a parameter here.
      ['/api/stats/groups?camera=door', 'camera'],
      ['/api/stats/groups/csv?bucket=fortnight', 'bucket'],
    ];
    for (const [path, reason] of cases) {
      const res = await call(path);
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as { message: string[] };
      expect(body.message.join('; '), path).toContain(reason);
    }
  });

  it('is in the OpenAPI document with its parameters', async () => {
    const doc = await json<{ paths: Record<string, { get?: { parameters?: { name: string }[] } }> }>(
      '/api/docs/openapi.json',
    );
    expect(doc.paths['/api/stats/groups']!.get!.parameters!.map((p) => p.name)).toEqual([
      'group',
      'from',
      'to',
      'bucket',
    ]);
    expect(doc.paths['/api/stats/groups/csv']!.get).toBeDefined();
  });
});
