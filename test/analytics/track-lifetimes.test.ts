/**
 * People, not crops, through a real analytics process: track events and
 * predictions go in over the bus (two topics, two recorders), land in SQLite,
 * and come back over HTTP and CSV as visitors, dwell and coverage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@crowdlens/config';
import { GENDER_PREDICTIONS_TOPIC, TRACK_EVENTS_TOPIC } from '@crowdlens/contracts';
import { MESSAGE_BUS, type InMemoryBus } from '@crowdlens/bus';
import { createLogger } from '@crowdlens/runtime';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';
import { trackEvent, trackLifetime } from '../factories/track-event.factory';
import { personPrediction } from '../support/predictions';
import { GroupComparisonSchema, StatsResultSchema } from '../../apps/analytics/src/dtos/stats-response.dto';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 8, 0, 0);

interface Counts {
  suppressed: boolean;
  visitors: number | null;
  male: number | null;
  female: number | null;
  unknown: number | null;
  coverage: number | null;
}
interface StatsBody {
  totals: Counts & { maleShare: number | null; femaleShare: number | null };
  series: (Counts & { cameraId: string; bucketStart: number; faces: number | null })[];
}
interface DwellBody {
  bins: { label: string; tracks: number | null }[];
}
interface GroupsBody {
  groups: (Counts & { label: string; meanDwellMs: number | null })[];
}

describe('visitors and dwell from track lifetimes', () => {
  let running: RunningApp;
  let dir: string;
  /** Distinct track events published (each was published twice). */
  let distinctEvents = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crowdlens-tracks-'));
    running = await startCrowdLens(
      parseConfig({
        role: 'analytics',
        dataDir: dir,
        http: { port: 0, host: '127.0.0.1' },
        cameras: [{ id: 'door', name: 'Front door', url: 'rtsp://10.1.1.1/door', group: 'store-a' }],
        // k = 1: the scenarios are one or two people; one crop decides a gender.
        analytics: { kAnonymity: 1, minTrackEvidence: 1, minVoteMargin: 0.1, allowedLatenessMs: 24 * HOUR },
      }),
      createLogger('warn'),
    );
    const bus = running.app.get<InMemoryBus>(MESSAGE_BUS);
    const events = [
      // Hour 0, the story: started at t0, a classified crop at t0 + 1 s, a heartbeat at
      // t0 + 30 s, ended at t0 + 60 s: one man who stayed a minute, not the 0 s between his crops.
      trackEvent('started', { cameraId: 'door', trackId: 'stay', firstSeenTs: T0, lastSeenTs: T0, seq: 0 }),
      trackEvent('heartbeat', { cameraId: 'door', trackId: 'stay', firstSeenTs: T0, lastSeenTs: T0 + 30_000, seq: 1 }),
      trackEvent('ended', { cameraId: 'door', trackId: 'stay', firstSeenTs: T0, lastSeenTs: T0 + 60_000, seq: 2 }),
      // Hour 1: a woman classified, and a person whose face was never classified (20 s and 4 min).
      ...trackLifetime({ cameraId: 'door', trackId: 'woman', firstSeenTs: T0 + HOUR, lastSeenTs: T0 + HOUR + 20_000 }),
      ...trackLifetime({
        cameraId: 'door',
        trackId: 'faceless',
        firstSeenTs: T0 + HOUR,
        lastSeenTs: T0 + HOUR + 240_000,
      }),
    ];
    const predictions = [
      personPrediction('stay-1', 'door', 'stay', T0 + 1_000, 0.9),
      personPrediction('woman-1', 'door', 'woman', T0 + HOUR + 5_000, 0.1),
    ];
    distinctEvents = events.length;
    // The prediction of the woman first, then every event twice: the second copy is a duplicate.
    await bus.publish(GENDER_PREDICTIONS_TOPIC, predictions[1]!);
    for (const e of [...events, ...events]) await bus.publish(TRACK_EVENTS_TOPIC, e);
    await bus.publish(GENDER_PREDICTIONS_TOPIC, predictions[0]!);
    await bus.idle();
  }, 60_000);

  afterAll(async () => {
    await running?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const json = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${running.url}${path}`);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  const text = async (path: string): Promise<string> => (await fetch(`${running.url}${path}`)).text();
  const hour0 = `from=${T0}&to=${T0 + HOUR}`;
  const hours = `from=${T0}&to=${T0 + 2 * HOUR}`;

  it('counts the person once and measures dwell from started to ended: 60 s (API and CSV)', async () => {
    const stats = await json<StatsBody>(`/api/stats?${hour0}&bucket=hour`);
    expect(stats.series).toEqual([
      {
        cameraId: 'door',
        bucketStart: T0,
        suppressed: false,
        faces: 1,
        visitors: 1,
        male: 1,
        female: 0,
        unknown: 0,
        coverage: 1,
      },
    ]);
    const dwell = await json<DwellBody>(`/api/stats/dwell?${hour0}`);
    // 60 s is in the 1–2 min bin; empty bins are below k and read null.
    expect(dwell.bins.map((b) => [b.label, b.tracks])).toEqual([
      ['0s–10s', null],
      ['10s–30s', null],
      ['30s–1m', null],
      ['1m–2m', 1],
      ['2m–5m', null],
      ['5m–10m', null],
      ['≥10m', null],
    ]);
    const groups = await json<GroupsBody>(`/api/stats/groups?${hour0}&bucket=hour`);
    expect(groups.groups[0]).toMatchObject({ label: 'store-a', visitors: 1, meanDwellMs: 60_000 });
    const csv = (await text(`/api/stats/groups/csv?${hour0}&bucket=hour`)).trim().split('\n');
    expect(csv).toEqual([
      'group,cameras,suppressed,faces,visitors,female,male,unknown,coverage,mean_dwell_s',
      'store-a,1,false,1,1,0,1,0,1,60.0',
    ]);
  });

  it('counts a person with no classified face as a visitor of unknown gender, and coverage drops', async () => {
    const stats = await json<StatsBody>(`/api/stats?${hours}&bucket=hour`);
    expect(stats.series[1]).toMatchObject({ visitors: 2, female: 1, male: 0, unknown: 1, coverage: 0.5 });
    // The shares are of the decided two in three; coverage says how many that is.
    expect(stats.totals).toMatchObject({
      visitors: 3,
      male: 1,
      female: 1,
      unknown: 1,
      coverage: 2 / 3,
      maleShare: 0.5,
      femaleShare: 0.5,
    });
    const groups = await json<GroupsBody>(`/api/stats/groups?${hours}&bucket=hour`);
    // (60 + 20 + 240) s / 3 people.
    expect(groups.groups[0]).toMatchObject({ visitors: 3, coverage: 2 / 3, meanDwellMs: Math.round(320_000 / 3) });
  });

  it('puts coverage in the stats CSV, one share per bucket', async () => {
    const csv = (await text(`/api/stats/csv?${hours}&bucket=hour`)).trim().split('\n');
    expect(csv).toEqual([
      'bucket_start,camera_id,group,suppressed,faces,visitors,female,male,unknown,coverage',
      `${new Date(T0).toISOString()},door,store-a,false,1,1,0,1,0,1`,
      `${new Date(T0 + HOUR).toISOString()},door,store-a,false,1,2,1,0,1,0.5`,
    ]);
  });

  it('documents coverage in the OpenAPI response schemas, which match what is sent', async () => {
    // Strict schemas: a field sent but not documented (or documented but not sent) fails here.
    StatsResultSchema.parse(await json(`/api/stats?${hours}&bucket=minute`));
    GroupComparisonSchema.parse(await json(`/api/stats/groups?${hours}&bucket=hour`));
    type Schema = { properties: Record<string, Schema>; items: Schema; description?: string };
    const doc = await json<{
      paths: Record<string, { get: { responses: { 200: { content: { 'application/json': { schema: Schema } } } } } }>;
    }>('/api/docs/openapi.json');
    const body = (path: string) => doc.paths[path]!.get.responses[200].content['application/json'].schema;
    expect(body('/api/stats').properties.totals!.properties.coverage!.description).toContain(
      '(male + female) / visitors',
    );
    expect(body('/api/stats').properties.series!.items.properties).toHaveProperty('coverage');
    expect(body('/api/stats/groups').properties.groups!.items.properties).toHaveProperty('coverage');
  });

  it('counts applied and duplicate track events in its metrics', async () => {
    const metrics = await text('/metrics');
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1]);
    expect(distinctEvents).toBe(14);
    expect(value('crowdlens_analytics_track_events_applied_total')).toBe(distinctEvents);
    expect(value('crowdlens_analytics_track_events_duplicate_total')).toBe(distinctEvents);
  });
});
