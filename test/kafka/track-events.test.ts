/**
 * Distributed mode with a real broker: an analytics process (KafkaBus,
 * PostgreSQL) consumes track events and predictions from their contract
 * topics with two recorders in two consumer groups. Everything is published
 * twice, predictions partly before their track's events and partly after: each
 * person counts once, with their whole stay as dwell, and the faceless ones as
 * visitors of unknown gender. A broker of its own: the topic names are the
 * contract's, shared with nobody.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '@crowdlens/bus';
import { createLogger } from '@crowdlens/runtime';
import { parseConfig } from '@crowdlens/config';
import {
  GENDER_PREDICTIONS_TOPIC,
  TRACK_EVENTS_TOPIC,
  type GenderPrediction,
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
const PARTITIONS = 2;
const CAMERAS = ['north', 'south'];
const PEOPLE = 40;

interface Person {
  readonly cameraId: string;
  readonly trackId: string;
  readonly first: number;
  readonly last: number;
  /** P(male) of their crops; null: no face ever classified. */
  readonly probMale: number | null;
}

/** 40 people over two cameras and two hours, stays of 3 s to 10 min; every fourth never classified. */
function people(): Person[] {
  return Array.from({ length: PEOPLE }, (_, i) => {
    const first = T0 + ((i * 173_311) % (2 * HOUR));
    return {
      cameraId: CAMERAS[i % CAMERAS.length]!,
      trackId: `person-${i}`,
      first,
      last: first + 3_000 + ((i * 59_999) % (10 * 60_000)),
      probMale: i % 4 === 3 ? null : i % 2 === 0 ? 0.85 : 0.15,
    };
  });
}

interface StatsBody {
  totals: {
    visitors: number | null;
    male: number | null;
    female: number | null;
    unknown: number | null;
    coverage: number | null;
  };
}
interface GroupsBody {
  groups: { label: string; visitors: number | null; meanDwellMs: number | null }[];
}

describe('track events and predictions through Kafka into PostgreSQL', () => {
  let kafka: DedicatedKafka;
  let db: TestDatabase;
  let analytics: RunningApp;
  let producer: KafkaBus;
  let dataDir: string;

  beforeAll(async () => {
    [kafka, db] = await Promise.all([DedicatedKafka.start('track-events'), createTestDatabase('kafka_tracks')]);
    report(`dedicated kafka started in ${kafka.startMs} ms`);
    dataDir = mkdtempSync(join(tmpdir(), 'crowdlens-kafka-tracks-'));
    analytics = await startCrowdLens(
      parseConfig({
        role: 'analytics',
        dataDir,
        http: { port: 0, host: '127.0.0.1' },
        cameras: CAMERAS.map((id) => ({ id, url: `rtsp://10.0.0.1/${id}`, group: 'mall' })),
        bus: { type: 'kafka', brokers: kafka.brokers, partitions: PARTITIONS, cropRetentionMs: 60_000 },
        store: { type: 'postgres', url: db.url },
        analytics: { kAnonymity: 1, minTrackEvidence: 1, minVoteMargin: 0.1, allowedLatenessMs: 24 * HOUR },
      }),
      createLogger('warn'),
    );
    producer = new KafkaBus({
      brokers: kafka.brokers,
      clientId: 'track-events-producer',
      partitions: PARTITIONS,
      cropRetentionMs: 60_000,
      retentionMs: 3_600_000,
    });
  }, 240_000);

  afterAll(async () => {
    await producer?.close();
    await analytics?.close();
    await kafka?.destroy();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const json = async <T>(path: string): Promise<T> => (await (await fetch(`${analytics.url}${path}`)).json()) as T;
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${analytics.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  };

  it('counts every person once, dwell from their track, duplicates recognised', async () => {
    const crowd = people();
    const events: TrackEvent[] = crowd.flatMap((p) =>
      trackLifetime({ cameraId: p.cameraId, trackId: p.trackId, firstSeenTs: p.first, lastSeenTs: p.last }),
    );
    const predictions: GenderPrediction[] = crowd.flatMap((p) =>
      p.probMale === null
        ? []
        : [1, 2].map((k) =>
            personPrediction(
              `${p.trackId}-crop-${k}`,
              p.cameraId,
              p.trackId,
              p.first + Math.floor(((p.last - p.first) * k) / 3),
              p.probMale!,
            ),
          ),
    );
    // Half the predictions before any track event, the rest after them all; then everything again.
    const half = Math.floor(predictions.length / 2);
    const round = async () => {
      await Promise.all(predictions.slice(0, half).map((p) => producer.publish(GENDER_PREDICTIONS_TOPIC, p)));
      await Promise.all(events.map((e) => producer.publish(TRACK_EVENTS_TOPIC, e)));
      await Promise.all(predictions.slice(half).map((p) => producer.publish(GENDER_PREDICTIONS_TOPIC, p)));
    };
    const t0 = Date.now();
    await round();
    await round();

    await until(
      'every track event and prediction applied, and their copies seen',
      async () => {
        const counts = await Promise.all(
          [
            'crowdlens_analytics_track_events_applied_total',
            'crowdlens_analytics_track_events_duplicate_total',
            'crowdlens_analytics_predictions_applied_total',
            'crowdlens_analytics_predictions_duplicate_total',
          ].map(metric),
        );
        const want = [events.length, events.length, predictions.length, predictions.length];
        return counts.every((n, i) => n >= want[i]!) ? counts : undefined;
      },
      90_000,
      500,
    );
    report(
      `${events.length} track events and ${predictions.length} predictions, each published twice over ${PARTITIONS} ` +
        `partitions, applied in ${Date.now() - t0} ms`,
    );
    // Applied exactly once each (a redelivery after a rebalance may add duplicates, never applications).
    expect(await metric('crowdlens_analytics_track_events_applied_total')).toBe(events.length);
    expect(await metric('crowdlens_analytics_predictions_applied_total')).toBe(predictions.length);

    const range = `from=${T0}&to=${T0 + 3 * HOUR}&bucket=hour`;
    const classified = crowd.filter((p) => p.probMale !== null);
    const { totals } = await json<StatsBody>(`/api/stats?${range}`);
    expect(totals).toMatchObject({
      visitors: PEOPLE,
      male: classified.filter((p) => p.probMale! > 0.5).length,
      female: classified.filter((p) => p.probMale! < 0.5).length,
      unknown: PEOPLE - classified.length,
      coverage: classified.length / PEOPLE,
    });
    const { groups } = await json<GroupsBody>(`/api/stats/groups?${range}`);
    const meanStay = crowd.reduce((ms, p) => ms + p.last - p.first, 0) / PEOPLE;
    expect(groups).toEqual([
      expect.objectContaining({ label: 'mall', visitors: PEOPLE, meanDwellMs: Math.round(meanStay) }),
    ]);
  });
});
