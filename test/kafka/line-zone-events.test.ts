/**
 * Lines and zones in the distributed mode with a real broker: an analytics
 * process (KafkaBus, PostgreSQL) consumes line crossings and zone entries/exits
 * from their contract topic beside track events and predictions, everything
 * published twice. Its answers must be exactly those of the embedded mode's
 * analytics (in-memory bus, SQLite) fed the same events once: same crossings
 * per direction and gender, same zone entries, occupancy and dwell.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBus, MESSAGE_BUS, type MessageBus } from '@crowdlens/bus';
import { createLogger } from '@crowdlens/runtime';
import { parseConfig, type AppConfigInput } from '@crowdlens/config';
import {
  GENDER_PREDICTIONS_TOPIC,
  LINE_ZONE_EVENT_SCHEMA_VERSION,
  LINE_ZONE_EVENTS_TOPIC,
  TRACK_EVENTS_TOPIC,
  type GenderPrediction,
  type LineZoneEvent,
  type TrackEvent,
} from '@crowdlens/contracts';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';
import { trackLifetime } from '../factories/track-event.factory';
import { DedicatedKafka } from '../support/kafka';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { personPrediction } from '../support/predictions';
import { report, until } from '../support/wait';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const HOUR = 3_600_000;
const PEOPLE = 30;

/** 30 people through one door: everyone crosses in, two thirds back out, half stop at the till zone. */
function feed(): { tracks: TrackEvent[]; predictions: GenderPrediction[]; lineZones: LineZoneEvent[] } {
  const tracks: TrackEvent[] = [];
  const predictions: GenderPrediction[] = [];
  const lineZones: LineZoneEvent[] = [];
  for (let i = 0; i < PEOPLE; i++) {
    const trackId = `p${i}`;
    const first = T0 + i * 97_000;
    const last = first + 120_000;
    tracks.push(...trackLifetime({ cameraId: 'door', trackId, firstSeenTs: first, lastSeenTs: last }));
    if (i % 3 !== 2)
      predictions.push(personPrediction(`${trackId}-c`, 'door', trackId, first + 1000, i % 2 ? 0.9 : 0.1));
    const base = { schemaVersion: LINE_ZONE_EVENT_SCHEMA_VERSION, cameraId: 'door', trackId, emittedAt: last } as const;
    lineZones.push({
      ...base,
      kind: 'line-crossed',
      eventId: `${trackId}:in`,
      name: 'door',
      ts: first + 2000,
      direction: 'in',
    });
    if (i % 3 !== 0)
      lineZones.push({
        ...base,
        kind: 'line-crossed',
        eventId: `${trackId}:out`,
        name: 'door',
        ts: last - 2000,
        direction: 'out',
      });
    if (i % 2 === 0) {
      const entered = first + 10_000;
      lineZones.push({ ...base, kind: 'zone-entered', eventId: `${trackId}:ze`, name: 'till', ts: entered });
      lineZones.push({
        ...base,
        kind: 'zone-exited',
        eventId: `${trackId}:zx`,
        name: 'till',
        ts: entered + 20_000 + i * 1000,
        enteredTs: entered,
        reason: 'walked-out',
      });
    }
  }
  return { tracks, predictions, lineZones };
}

const common: Partial<AppConfigInput> = {
  role: 'analytics',
  http: { port: 0, host: '127.0.0.1' },
  cameras: [{ id: 'door', url: 'rtsp://10.0.0.1/door' }],
  analytics: { kAnonymity: 2, minTrackEvidence: 1, minVoteMargin: 0.1, allowedLatenessMs: 24 * HOUR },
};

describe('line and zone events through Kafka into PostgreSQL, the same as embedded', () => {
  let kafka: DedicatedKafka;
  let db: TestDatabase;
  let distributed: RunningApp;
  let embedded: RunningApp;
  let producer: KafkaBus;
  const dirs = [mkdtempSync(join(tmpdir(), 'crowdlens-lz-k-')), mkdtempSync(join(tmpdir(), 'crowdlens-lz-e-'))];

  beforeAll(async () => {
    [kafka, db] = await Promise.all([DedicatedKafka.start('line-zones'), createTestDatabase('kafka_linezones')]);
    report(`dedicated kafka started in ${kafka.startMs} ms`);
    distributed = await startCrowdLens(
      parseConfig({
        ...common,
        dataDir: dirs[0],
        bus: { type: 'kafka', brokers: kafka.brokers, partitions: 2, cropRetentionMs: 60_000 },
        store: { type: 'postgres', url: db.url },
      }),
      createLogger('warn'),
    );
    embedded = await startCrowdLens(parseConfig({ ...common, dataDir: dirs[1] }), createLogger('warn'));
    producer = new KafkaBus({
      brokers: kafka.brokers,
      clientId: 'line-zone-producer',
      partitions: 2,
      cropRetentionMs: 60_000,
      retentionMs: 3_600_000,
    });
  }, 240_000);

  afterAll(async () => {
    await producer?.close();
    await distributed?.close();
    await embedded?.close();
    await kafka?.destroy();
    await db?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const json = async <T>(app: RunningApp, path: string): Promise<T> =>
    (await (await fetch(`${app.url}${path}`)).json()) as T;
  const metric = async (app: RunningApp, name: string): Promise<number> => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  };

  it('counts each crossing and stay once under replays, with the numbers of the embedded mode', async () => {
    const { tracks, predictions, lineZones } = feed();
    const publishAll = async (bus: Pick<MessageBus, 'publish'>) => {
      await Promise.all(tracks.map((e) => bus.publish(TRACK_EVENTS_TOPIC, e)));
      await Promise.all(predictions.map((p) => bus.publish(GENDER_PREDICTIONS_TOPIC, p)));
      await Promise.all(lineZones.map((e) => bus.publish(LINE_ZONE_EVENTS_TOPIC, e)));
    };
    await publishAll(producer);
    await publishAll(producer); // a replay
    await publishAll(embedded.app.get<MessageBus>(MESSAGE_BUS));

    for (const app of [distributed, embedded]) {
      await until(
        'every line and zone event stored',
        async () => {
          const applied = await metric(app, 'crowdlens_analytics_line_zone_events_applied_total');
          const preds = await metric(app, 'crowdlens_analytics_predictions_applied_total');
          return applied >= lineZones.length && preds >= predictions.length ? applied : undefined;
        },
        90_000,
        500,
      );
    }
    // Exactly once each in the distributed mode, the copies recognised.
    expect(await metric(distributed, 'crowdlens_analytics_line_zone_events_applied_total')).toBe(lineZones.length);
    expect(await metric(distributed, 'crowdlens_analytics_line_zone_events_duplicate_total')).toBeGreaterThanOrEqual(
      lineZones.length,
    );

    const range = `from=${T0}&to=${T0 + 2 * HOUR}`;
    for (const path of [
      `/api/stats/lines?${range}&bucket=hour`,
      `/api/stats/lines?${range}&bucket=minute`,
      `/api/stats/zones?${range}&bucket=hour`,
      `/api/stats/lines/csv?${range}&bucket=hour`,
      `/api/stats/zones/csv?${range}&bucket=minute`,
    ]) {
      const [d, e] = await Promise.all([
        fetch(`${distributed.url}${path}`).then((r) => r.text()),
        fetch(`${embedded.url}${path}`).then((r) => r.text()),
      ]);
      expect(d, path).toBe(e);
    }
    const lines = await json<{
      lines: Array<{ in: { people: number; male: number; female: number; unknown: number }; out: { people: number } }>;
    }>(distributed, `/api/stats/lines?${range}&bucket=hour`);
    const classified = (i: number) => i % 3 !== 2;
    const all = [...Array(PEOPLE).keys()];
    expect(lines.lines).toHaveLength(1);
    expect(lines.lines[0]!.in).toMatchObject({
      people: PEOPLE,
      male: all.filter((i) => classified(i) && i % 2 === 1).length,
      female: all.filter((i) => classified(i) && i % 2 === 0).length,
      unknown: all.filter((i) => !classified(i)).length,
    });
    expect(lines.lines[0]!.out.people).toBe(all.filter((i) => i % 3 !== 0).length);
    const zones = await json<{ zones: Array<{ entries: { people: number }; meanDwellMs: number }> }>(
      distributed,
      `/api/stats/zones?${range}&bucket=hour`,
    );
    const stayers = all.filter((i) => i % 2 === 0);
    expect(zones.zones[0]!.entries.people).toBe(stayers.length);
    expect(zones.zones[0]!.meanDwellMs).toBe(
      Math.round(stayers.reduce((ms, i) => ms + 20_000 + i * 1000, 0) / stayers.length),
    );
  }, 240_000);
});
