/**
 * Nothing is lost to start order: a deployment tool (Compose, Kubernetes, a
 * newcomer following the README) starts the role processes in any order, so
 * whatever is published before a consumer group first exists must still be
 * processed once. New groups start at the earliest retained offset
 * (`bus.newGroupsStartFrom`, default earliest); consumers are idempotent.
 *
 * Three orders, each on a broker emptied of topics and groups, real role
 * processes, PostgreSQL:
 * - ingest first: the whole sample video is published before inference or
 *   analytics exist; then inference, then analytics;
 * - consumers first: inference and analytics, then the same crops and track
 *   events, byte for byte;
 * - analytics last: inference turns every crop into a prediction before
 *   analytics' groups exist.
 * Each must infer and count every crop exactly once (predictions = crops =
 * distinct ids = faces, no duplicate seen), and handle every track event.
 * Visitor totals are reported, not compared: they depend on how the store
 * merges track events with predictions, which tests of their own cover.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DEAD_LETTERS_TOPIC,
  FACE_CROPS_TOPIC,
  GENDER_PREDICTIONS_TOPIC,
  TRACK_EVENTS_TOPIC,
  type Topic,
} from '@crowdlens/contracts';
import { TRACK_EVENTS_GROUP } from '../../apps/analytics/src/services/track-event-recorder.service';
import { KafkaBus, kafkaGroupId } from '@crowdlens/bus';
import { ensureBuilt, type CrowdLensProcess } from '../support/crowdlens-process';
import { ensurePostgres } from '../support/postgres';
import { report, sleep, until } from '../support/wait';
import { uniqueName } from '../support/deploy-scripts';
import { prediction } from '../kafka/messages';
import { DistributedHarness, readStore, withPostgres, type RawMessage, type StoreFigures } from './harness';

const pgFigures = (url: string): Promise<StoreFigures> => withPostgres(url, readStore);

/** Polls PostgreSQL until `expected` distinct predictions are in, then checks nothing more arrives. */
async function settled(url: string, expected: number, timeoutMs = 180_000): Promise<StoreFigures> {
  await until(
    `${expected} predictions in PostgreSQL`,
    async () => ((await pgFigures(url)).ids >= expected ? true : undefined),
    timeoutMs,
    300,
  );
  await sleep(1_500);
  return pgFigures(url);
}

/**
 * Waits until a group has committed every message of a topic: each was
 * handled (or dead-lettered, which the runs check is 0), none skipped.
 */
async function committedAll(h: DistributedHarness, group: string, topic: Topic): Promise<number> {
  const total = await h.topicCount(topic);
  await until(
    `${group} to commit all ${total} messages of ${topic.name}`,
    async () => ((await h.committed(kafkaGroupId(group, topic), topic)) === total ? true : undefined),
    60_000,
    300,
  );
  return total;
}

async function duplicates(analytics: CrowdLensProcess): Promise<number> {
  return (await analytics.metrics()).value('crowdlens_analytics_predictions_duplicate_total') ?? 0;
}

/**
 * The harness' config, counting faces: the crops → predictions → counts path is
 * what start order used to cut; the same start rule covers every group.
 */
function facesConfig(h: DistributedHarness, name: string): string {
  const path = h.writeConfig(name);
  const config = parseYaml(readFileSync(path, 'utf8')) as Record<string, unknown>;
  writeFileSync(path, toYaml({ ...config, counting: { unit: 'faces' } }));
  return path;
}

/** Ingest's two streams again, byte for byte: a person's track events, then the crops of their face. */
async function publishAsIngest(
  h: DistributedHarness,
  corpus: { readonly crops: readonly RawMessage[]; readonly trackEvents: readonly RawMessage[] },
): Promise<void> {
  for (const [topic, messages] of [
    [TRACK_EVENTS_TOPIC, corpus.trackEvents],
    [FACE_CROPS_TOPIC, corpus.crops],
  ] as const) {
    const replay = await h.replayer(topic, messages);
    await replay.stream(50);
    await replay.close();
  }
}

describe('distributed mode: nothing is lost to start order', () => {
  let h: DistributedHarness;
  /** What the ingest-first run published and counted, for the other orders. */
  let corpus: {
    readonly crops: readonly RawMessage[];
    readonly trackEvents: readonly RawMessage[];
    /** Faces counted in the first run; every order must count the same. */
    readonly faces: number;
  } | null = null;

  const needCorpus = (): NonNullable<typeof corpus> => {
    if (!corpus) throw new Error('needs the crops recorded by the ingest-first test (it failed or did not run)');
    return corpus;
  };

  /** The consumer groups that exist on the broker now (none before a consumer first starts). */
  const groups = async (): Promise<string[]> =>
    (await (await h.adminClient()).listGroups()).groups.map((g) => g.groupId).sort();

  beforeAll(async () => {
    ensureBuilt();
    await ensurePostgres();
    h = await DistributedHarness.start();
  }, 300_000);

  afterEach(async () => {
    await h?.stopProcesses();
  });

  afterAll(async (suite) => {
    const failed = suite.tasks.some((t) => t.result?.state === 'fail');
    await h?.close(failed);
  }, 120_000);

  it('ingest first: the whole video is published before any consumer group exists, and all of it is counted once', async () => {
    await h.resetTopics(3);
    const db = await h.database('order_ingest_first');
    const config = facesConfig(h, 'ingest-first');
    const ingest = await h.spawn('ingest', 'ingest', config);
    const published = await until(
      'ingest to finish the sample video',
      async () => {
        const m = await ingest.metrics();
        return m.value('crowdlens_camera_state', { camera: 'entrance', state: 'stopped' }) === 1
          ? m.value('crowdlens_ingest_crops_published_total', { camera: 'entrance' })
          : undefined;
      },
      300_000,
      500,
    );
    const groupsBefore = await groups();
    // Inference next, analytics once inference has published its backlog: both groups are new to a full topic.
    const inference = await h.spawn('inference', 'inference', config);
    await until(
      'inference to work off the crops published before it started',
      async () => ((await h.topicCount(GENDER_PREDICTIONS_TOPIC)) >= published ? true : undefined),
      180_000,
      300,
    );
    const analytics = await h.spawn('analytics', 'analytics', config, db);
    const figures = await settled(db.url, published);
    const predictions = await h.topicCount(GENDER_PREDICTIONS_TOPIC);
    const dup = await duplicates(analytics);
    report(
      `start order, ingest first: ${published} crops published with no consumer group on the broker (${JSON.stringify(groupsBefore)}); ` +
        `inference (pid ${inference.pid}) published ${predictions} predictions; analytics counted ${figures.ids}, faces ${figures.totals.faces}, ` +
        `${dup} duplicates; totals ${JSON.stringify(figures.totals)} over ${figures.tracks.length} tracks`,
    );
    expect(published).toBeGreaterThanOrEqual(20);
    expect(groupsBefore).toEqual([]);
    expect(predictions).toBe(published);
    expect(figures.ids).toBe(published);
    expect(figures.totals.faces).toBe(published);
    expect(dup).toBe(0);
    expect(await committedAll(h, TRACK_EVENTS_GROUP, TRACK_EVENTS_TOPIC)).toBeGreaterThan(0);
    expect(await h.topicCount(DEAD_LETTERS_TOPIC)).toBe(0);
    corpus = {
      crops: await h.readTopic(FACE_CROPS_TOPIC),
      trackEvents: await h.readTopic(TRACK_EVENTS_TOPIC),
      faces: figures.totals.faces,
    };
    report(`start order, ingest first: ${corpus.trackEvents.length} track events`);
    expect(corpus.crops).toHaveLength(published);
  }, 600_000);

  it('consumers first: inference and analytics, then the crops: every crop counted once', async () => {
    const { crops, faces, trackEvents } = needCorpus();
    await h.resetTopics(3);
    const db = await h.database('order_consumers_first');
    const config = facesConfig(h, 'consumers-first');
    const [analytics] = await Promise.all([
      h.spawn('analytics', 'analytics', config, db),
      h.spawn('inference', 'inference', config),
    ]);
    // What ingest published in the first test, byte for byte.
    await publishAsIngest(h, needCorpus());
    const figures = await settled(db.url, crops.length);
    const predictions = await h.topicCount(GENDER_PREDICTIONS_TOPIC);
    const dup = await duplicates(analytics);
    report(
      `start order, consumers first: ${crops.length} crops, ${predictions} predictions, counted ${figures.ids}, ` +
        `${dup} duplicates; totals ${JSON.stringify(figures.totals)} over ${figures.tracks.length} tracks`,
    );
    expect(predictions).toBe(crops.length);
    expect(figures.ids).toBe(crops.length);
    expect(figures.totals.faces).toBe(faces);
    expect(dup).toBe(0);
    // Track lifetimes are a stream of their own (own group): all of it handled, too.
    expect(await committedAll(h, TRACK_EVENTS_GROUP, TRACK_EVENTS_TOPIC)).toBe(trackEvents.length);
    expect(await h.topicCount(DEAD_LETTERS_TOPIC)).toBe(0);
  }, 420_000);

  it('analytics last: every prediction is published before analytics’ group exists, and all are counted once', async () => {
    const { crops, faces, trackEvents } = needCorpus();
    await h.resetTopics(3);
    const db = await h.database('order_analytics_last');
    const config = facesConfig(h, 'analytics-last');
    await h.spawn('inference', 'inference', config);
    await publishAsIngest(h, needCorpus());
    await until(
      'every crop inferred',
      async () => ((await h.topicCount(GENDER_PREDICTIONS_TOPIC)) >= crops.length ? true : undefined),
      180_000,
      300,
    );
    const groupsBefore = await groups();
    const analytics = await h.spawn('analytics', 'analytics', config, db);
    const figures = await settled(db.url, crops.length);
    const predictions = await h.topicCount(GENDER_PREDICTIONS_TOPIC);
    const dup = await duplicates(analytics);
    report(
      `start order, analytics last: ${predictions} predictions waiting when analytics started (groups then: ${JSON.stringify(groupsBefore)}); ` +
        `counted ${figures.ids}, ${dup} duplicates; totals ${JSON.stringify(figures.totals)} over ${figures.tracks.length} tracks`,
    );
    expect(groupsBefore.some((g) => g.startsWith('crowdlens-analytics'))).toBe(false);
    expect(predictions).toBe(crops.length);
    expect(figures.ids).toBe(crops.length);
    expect(figures.totals.faces).toBe(faces);
    expect(dup).toBe(0);
    // Track lifetimes are a stream of their own (own group): all of it handled, too.
    expect(await committedAll(h, TRACK_EVENTS_GROUP, TRACK_EVENTS_TOPIC)).toBe(trackEvents.length);
    expect(await h.topicCount(DEAD_LETTERS_TOPIC)).toBe(0);
  }, 420_000);

  it('bus.newGroupsStartFrom: earliest replays the backlog to a new group, latest starts after it', async () => {
    const topic = GENDER_PREDICTIONS_TOPIC;
    await h.resetTopics(3);
    const bus = (newGroupsStartFrom: 'earliest' | 'latest'): KafkaBus =>
      new KafkaBus({
        brokers: h.brokers,
        clientId: uniqueName('start-from'),
        partitions: 3,
        cropRetentionMs: 60_000,
        retentionMs: 3_600_000,
        newGroupsStartFrom,
      });
    const producer = bus('earliest');
    const earliest = bus('earliest');
    const latest = bus('latest');
    try {
      await Promise.all(['old-1', 'old-2'].map((id) => producer.publish(topic, prediction(id, 'cam-0'))));
      const seen = { earliest: [] as string[], latest: [] as string[] };
      await earliest.subscribe(
        topic,
        { group: uniqueName('earliest') },
        async (p) => void seen.earliest.push(p.predictionId),
      );
      await latest.subscribe(
        topic,
        { group: uniqueName('latest') },
        async (p) => void seen.latest.push(p.predictionId),
      );
      await producer.publish(topic, prediction('new-1', 'cam-0'));
      await until('both groups to see the new message', async () =>
        seen.earliest.includes('new-1') && seen.latest.includes('new-1') ? true : undefined,
      );
      await sleep(500);
      expect(seen.earliest.sort()).toEqual(['new-1', 'old-1', 'old-2']);
      expect(seen.latest).toEqual(['new-1']);
    } finally {
      await Promise.allSettled([producer.close(), earliest.close(), latest.close()]);
    }
  }, 120_000);
});
