/**
 * Distributed mode end to end: ingest, inference and analytics as separate
 * `node dist/apps/embedded/src/main.js` processes (role flag), a real Apache
 * Kafka broker and a real PostgreSQL — then the faults the issue names:
 * analytics SIGKILLed and restarted, the broker restarted, inference members
 * joining and leaving, poison messages, SIGTERM to inference.
 *
 * Isolation: the apps' topic names are contract constants, so this suite runs
 * its own broker (free ports, fresh data directory) and deletes and recreates
 * the topics (and the consumer groups) before each test; every test has its
 * own PostgreSQL database.
 *
 * Comparability: capture time (`frameTs`) is wall clock — with `realtime:
 * false` a frame is stamped with the run's start plus its media time — so
 * minute buckets of two runs cut the video at different places. What is
 * comparable across runs: detection, tracking and classification are
 * deterministic on the same file (every sampled frame analysed, none
 * dropped), so the totals (faces, visitors, male/female/unknown) and every
 * track (first frame, dwell, crops, vote) match between the embedded run and
 * the distributed run; and the very same predictions give the same per-bucket
 * rows through the embedded store path (SQLite) as through the distributed one
 * (Kafka → analytics process → PostgreSQL). The first test records the crops
 * and the totals; the fault tests replay those crops byte for byte (so their
 * totals must equal the undisturbed run's), copied onto several cameras where
 * a test needs several partitions busy.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@crowdlens/config';
import {
  DEAD_LETTERS_TOPIC,
  FACE_CROPS_TOPIC,
  GENDER_PREDICTIONS_TOPIC,
  TRACK_EVENTS_TOPIC,
  DeadLetterSchema,
  type GenderPrediction,
  type TrackEvent,
} from '@crowdlens/contracts';
import { kafkaGroupId } from '@crowdlens/bus';
import { createAggregateStore, type PredictionRecord } from '@crowdlens/storage';
import { toRecord } from '../../apps/analytics/src/services/track-event-recorder.service';
import { storeOptions } from '../../apps/analytics/src/services/track-vote';
import { ensureBuilt, type CrowdLensProcess } from '../support/crowdlens-process';
import { ensurePostgres } from '../support/postgres';
import { report, sleep, until } from '../support/wait';
import {
  DistributedHarness,
  SAMPLE_FPS,
  fanOutCrops,
  pickTotals,
  readStore,
  withPostgres,
  withSqlite,
  type RawMessage,
  type StoreFigures,
  type Totals,
  type TrackRow,
} from './harness';

const INFERENCE_GROUP = kafkaGroupId('crowdlens-inference', FACE_CROPS_TOPIC);
const CROPS = FACE_CROPS_TOPIC.name;

/** What the undisturbed run leaves for the fault tests. */
interface Corpus {
  readonly crops: readonly RawMessage[];
  readonly predictions: readonly RawMessage[];
  /** Totals of the crops alone (replayed without track events) for the one camera of the undisturbed run. */
  readonly baseline: Totals;
  /** Totals of the whole undisturbed run, people without a classified face included. */
  readonly withTracks: Totals;
}

/** Tracks as shapes independent of the wall clock: first frame (from the first track's), dwell in frames, crops, vote. */
function toPredictionRecord(p: GenderPrediction): PredictionRecord {
  return {
    predictionId: p.predictionId,
    cameraId: p.cameraId,
    trackId: p.trackId,
    frameTs: p.frameTs,
    probMale: p.probMale,
  };
}

function trackShapes(tracks: readonly TrackRow[]): string[] {
  const frameMs = 1000 / SAMPLE_FPS;
  const t0 = Math.min(...tracks.map((t) => t.firstTs));
  return tracks
    .map(
      (t) =>
        `${Math.round((t.firstTs - t0) / frameMs)}+${Math.round((t.lastTs - t.firstTs) / frameMs)}:${t.crops}:${t.vote}`,
    )
    .sort();
}

const pgFigures = (url: string): Promise<StoreFigures> => withPostgres(url, readStore);

/**
 * Polls PostgreSQL until `expected` distinct predictions are in, then checks nothing more arrives.
 * Fails once the count has not moved for `stallMs` (a loss, not a slow machine), or after 10 minutes,
 * saying how far it got.
 */
async function settled(url: string, expected: number, stallMs = 120_000): Promise<StoreFigures> {
  const startedAt = Date.now();
  let count = -1;
  let movedAt = startedAt;
  for (;;) {
    const ids = (await pgFigures(url)).ids;
    if (ids >= expected) break;
    if (ids !== count) {
      count = ids;
      movedAt = Date.now();
    }
    const stalled = Date.now() - movedAt > stallMs;
    if (stalled || Date.now() - startedAt > 10 * 60_000)
      throw new Error(
        `waiting for ${expected} predictions in PostgreSQL: ${count} counted, ` +
          (stalled ? `no change for ${stallMs} ms` : 'still rising after 10 minutes'),
      );
    await sleep(300);
  }
  await sleep(1_500);
  return pgFigures(url);
}

async function delivered(proc: CrowdLensProcess, topic: string, group: string): Promise<number> {
  return (await proc.metrics()).value('crowdlens_bus_delivered_total', { topic, group }) ?? 0;
}

/** What the capture side did with the video: two runs are comparable only when both analysed the same frames. */
async function captureCounters(proc: CrowdLensProcess): Promise<Record<string, number | undefined>> {
  const m = await proc.metrics();
  const camera = { camera: 'entrance' };
  return {
    framesIn: m.value('crowdlens_camera_frames_in_total', camera),
    analysed: m.value('crowdlens_camera_frames_analysed_total', camera),
    dropped: m.value('crowdlens_camera_frames_dropped_total', camera),
    motionSkipped: m.value('crowdlens_camera_frames_motion_skipped_total', camera),
    faces: m.value('crowdlens_camera_faces_detected_total', camera),
    tracks: m.value('crowdlens_camera_tracks_total', camera),
    reconnects: m.value('crowdlens_camera_reconnects_total', camera),
    crops: m.value('crowdlens_ingest_crops_published_total', camera),
  };
}

/** Waits for the ingest process to finish the sample video; resolves with the crops it published. */
function videoFinished(ingest: CrowdLensProcess): Promise<number> {
  return until(
    'ingest to finish the sample video',
    async () => {
      const m = await ingest.metrics();
      return m.value('crowdlens_camera_state', { camera: 'entrance', state: 'stopped' }) === 1
        ? m.value('crowdlens_ingest_crops_published_total', { camera: 'entrance' })
        : undefined;
    },
    240_000,
    500,
  );
}

describe('distributed mode: three processes around a real Kafka broker and PostgreSQL', () => {
  let h: DistributedHarness;
  let corpus: Corpus | null = null;

  const needCorpus = (): Corpus => {
    if (!corpus)
      throw new Error('needs the crops and totals recorded by the end-to-end test (it failed or did not run)');
    return corpus;
  };

  beforeAll(async () => {
    ensureBuilt();
    await ensurePostgres();
    h = await DistributedHarness.start();
    report(`distributed suite: dedicated Kafka 4.1.1 broker on ${h.brokers[0]} started in ${h.kafka.startMs} ms`);
  }, 300_000);

  afterEach(async () => {
    await h?.stopProcesses();
  });

  afterAll(async (suite) => {
    const failed = suite.tasks.some((t) => t.result?.state === 'fail');
    await h?.close(failed);
  }, 120_000);

  it('the sample video through ingest, inference and analytics gives the embedded mode’s counts', async () => {
    await h.resetTopics(3);
    const db = await h.database('dist_e2e');
    const config = h.writeConfig('e2e');
    const started = Date.now();
    // Consumers first (start-order.test.ts covers the other orders).
    const [analytics] = await Promise.all([
      h.spawn('analytics', 'analytics', config, db),
      h.spawn('inference', 'inference', config),
    ]);
    const ingest = await h.spawn('ingest', 'ingest', config);
    const cropsPublished = await videoFinished(ingest);
    const distributedCapture = await captureCounters(ingest);
    const distributed = await settled(db.url, cropsPublished);
    const seconds = (Date.now() - started) / 1000;
    const recorderDuplicates =
      (await analytics.metrics()).value('crowdlens_analytics_predictions_duplicate_total') ?? 0;
    await h.stopProcesses();

    const crops = await h.readTopic(FACE_CROPS_TOPIC);
    const predictions = await h.readTopic(GENDER_PREDICTIONS_TOPIC);
    const trackEvents = (await h.readTopic(TRACK_EVENTS_TOPIC)).map(
      (m) => JSON.parse(m.value.toString('utf8')) as TrackEvent,
    );
    const deadLetters = await h.topicCount(DEAD_LETTERS_TOPIC);
    report(
      `e2e (distributed): ${cropsPublished} crops published by ingest, ${crops.length} in the crops topic, ` +
        `${predictions.length} predictions, ${distributed.ids} counted in PostgreSQL, ${recorderDuplicates} duplicates, ` +
        `${deadLetters} dead letters, ${seconds.toFixed(1)} s from the first process start; totals ${JSON.stringify(distributed.totals)}`,
    );
    expect(cropsPublished).toBeGreaterThanOrEqual(20);
    expect(crops).toHaveLength(cropsPublished);
    expect(distributed.ids).toBe(cropsPublished);
    expect(distributed.totals.faces).toBe(cropsPublished);
    expect(distributed.totals.visitors).toBe(distributed.tracks.length);
    expect(distributed.totals.male).toBeGreaterThan(0);
    expect(distributed.totals.female).toBeGreaterThan(0);
    expect(deadLetters).toBe(0);
    // One camera = one key = one partition, in order.
    expect(new Set(crops.map((m) => m.partition)).size).toBe(1);

    // 1) The same track events and predictions through the embedded store path (SQLite) give the same rows.
    const sqlitePath = join(h.workDir, 'same-predictions.db');
    const store = await createAggregateStore({ type: 'sqlite', path: sqlitePath }, storeOptions(parseConfig({})));
    const parsed = predictions.map((m) => JSON.parse(m.value.toString('utf8')) as GenderPrediction);
    await store.applyTrackEvents(trackEvents.map(toRecord));
    await store.applyPredictions(parsed.map(toPredictionRecord));
    await store.close();
    const samePredictions = await withSqlite(sqlitePath, readStore);
    expect(samePredictions.buckets).toEqual(distributed.buckets);
    expect(samePredictions.tracks).toEqual(distributed.tracks);
    expect(distributed.buckets.filter((b) => b.size === 'minute').length).toBeGreaterThan(0);

    // 2) The embedded mode (one process, in-memory bus, SQLite) on the same video: same totals, same tracks.
    const embeddedStarted = Date.now();
    const embedded = await h.spawn(
      'embedded',
      'embedded',
      h.writeConfig('embedded', { kafka: false }),
      undefined,
      false,
    );
    let trackEventsApplied = -1;
    await until(
      'the embedded run to count every crop and track',
      async () => {
        const m = await embedded.metrics();
        const done = m.value('crowdlens_camera_state', { camera: 'entrance', state: 'stopped' }) === 1;
        const published = m.value('crowdlens_ingest_crops_published_total', { camera: 'entrance' }) ?? -1;
        const applied = m.value('crowdlens_analytics_predictions_applied_total') ?? -2;
        // Track events have no published counter to compare with: wait until they stop coming.
        const events = m.value('crowdlens_analytics_track_events_applied_total') ?? 0;
        const settledEvents = events > 0 && events === trackEventsApplied;
        trackEventsApplied = events;
        return done && applied === published && settledEvents ? true : undefined;
      },
      240_000,
      500,
    );
    const embeddedCapture = await captureCounters(embedded);
    await embedded.stop();
    report(`capture: distributed ${JSON.stringify(distributedCapture)}, embedded ${JSON.stringify(embeddedCapture)}`);
    const embeddedFigures = await withSqlite(join(embedded.options.dataDir, 'crowdlens.db'), readStore);
    report(
      `e2e (embedded): ${embeddedFigures.ids} predictions counted in ${((Date.now() - embeddedStarted) / 1000).toFixed(1)} s; ` +
        `totals ${JSON.stringify(embeddedFigures.totals)}; minute buckets distributed ${
          distributed.buckets.filter((b) => b.size === 'minute').length
        }, embedded ${embeddedFigures.buckets.filter((b) => b.size === 'minute').length}`,
    );
    expect(embeddedFigures.totals).toEqual(distributed.totals);
    expect(embeddedFigures.ids).toBe(distributed.ids);
    expect(trackShapes(embeddedFigures.tracks)).toEqual(trackShapes(distributed.tracks));

    const unique = new Map<string, RawMessage>();
    for (let i = 0; i < predictions.length; i++) unique.set(parsed[i]!.predictionId, predictions[i]!);
    // The fault tests below replay the crops alone (no track events): their baseline is what the
    // predictions count on their own, i.e. without the people whose faces were never classified.
    const cropsOnlyPath = join(h.workDir, 'crops-only.db');
    const cropsOnly = await createAggregateStore(
      { type: 'sqlite', path: cropsOnlyPath },
      storeOptions(parseConfig({})),
    );
    await cropsOnly.applyPredictions(parsed.map(toPredictionRecord));
    await cropsOnly.close();
    const cropsOnlyTotals = (await withSqlite(cropsOnlyPath, readStore)).totals;
    expect(cropsOnlyTotals.faces).toBe(distributed.totals.faces);
    expect(cropsOnlyTotals.visitors).toBeLessThanOrEqual(distributed.totals.visitors);
    corpus = {
      crops,
      predictions: [...unique.values()],
      baseline: pickTotals(cropsOnlyTotals),
      withTracks: pickTotals(distributed.totals),
    };
  }, 600_000);

  it('analytics SIGKILLed mid-stream and restarted: totals equal the undisturbed run’s', async () => {
    const { crops: original, baseline } = needCorpus();
    const cameras = 3;
    const crops = fanOutCrops(original, cameras);
    await h.resetTopics(3);
    const db = await h.database('dist_kill');
    const config = h.writeConfig('kill');
    const [analytics] = await Promise.all([
      h.spawn('analytics', 'analytics', config, db),
      h.spawn('inference', 'inference', config),
    ]);
    const replay = await h.replayer(FACE_CROPS_TOPIC, crops);
    const streaming = replay.stream(20);
    await until(
      'a third of the stream counted',
      async () => ((await pgFigures(db.url)).ids >= crops.length / 3 ? true : undefined),
      120_000,
      200,
    );
    const countedAtKill = (await pgFigures(db.url)).ids;
    const sentAtKill = replay.sent;
    const exit = await analytics.kill();
    const restartedAt = Date.now();
    const restarted = await h.spawn('analytics', 'analytics-restarted', config, db);
    const restartMs = Date.now() - restartedAt;
    await streaming;
    await replay.close();
    const figures = await settled(db.url, crops.length);
    const m = await restarted.metrics();
    const predictions = await h.topicCount(GENDER_PREDICTIONS_TOPIC);
    report(
      `analytics kill test: sent ${crops.length} crops (${cameras} cameras), ${predictions} predictions published; ` +
        `SIGKILL after ${sentAtKill} sent / ${countedAtKill} counted; the restarted process (ready and joined ${restartMs} ms after the kill) applied ${m.value('crowdlens_analytics_predictions_applied_total')} and recognised ${
          m.value('crowdlens_analytics_predictions_duplicate_total') ?? 0
        } redelivered duplicates; counted ${figures.ids} distinct, faces ${figures.totals.faces}`,
    );
    expect(exit.signal).toBe('SIGKILL');
    expect(countedAtKill).toBeLessThan(crops.length);
    expect(figures.ids).toBe(crops.length);
    expect(figures.totals.faces).toBe(crops.length);
    for (let k = 0; k < cameras; k++) expect(figures.totalsByCamera.get(`cam-${k}`)).toEqual(baseline);
  }, 300_000);

  it('a broker restart mid-stream: every process recovers on its own and nothing produced is lost', async () => {
    // The whole pipeline again, ingest included: track events too, so the undisturbed run's totals.
    const { crops: original, withTracks: baseline } = needCorpus();
    await h.resetTopics(3);
    const db = await h.database('dist_restart');
    const config = h.writeConfig('restart');
    await Promise.all([h.spawn('analytics', 'analytics', config, db), h.spawn('inference', 'inference', config)]);
    // The real producer this time: ingest reads the video again while the broker goes away.
    const ingest = await h.spawn('ingest', 'ingest', config);
    const published = async () =>
      (await ingest.metrics()).value('crowdlens_ingest_crops_published_total', { camera: 'entrance' }) ?? 0;
    await until(
      'a third of the crops published',
      async () => ((await published()) >= original.length / 3 ? true : undefined),
      180_000,
      200,
    );
    const beforeRestart = await published();
    const countedBefore = (await pgFigures(db.url)).ids;
    const t0 = Date.now();
    const { stopMs, startMs } = await h.kafka.restart(1_000);
    const downMs = Date.now() - t0;
    const total = await videoFinished(ingest);
    const figures = await settled(db.url, total, 180_000);
    const inTopic = await h.topicCount(FACE_CROPS_TOPIC);
    const predictions = await h.topicCount(GENDER_PREDICTIONS_TOPIC);
    report(
      `broker restart test: ${beforeRestart} crops published (${countedBefore} counted) before the restart; broker stop ${stopMs} ms, ` +
        `start ${startMs} ms, ${downMs} ms without a broker; ingest published ${total} in all (${inTopic} in the topic), ` +
        `${predictions} predictions, counted ${figures.ids}; totals ${JSON.stringify(figures.totals)}`,
    );
    expect(beforeRestart).toBeLessThan(original.length);
    expect(total).toBe(original.length);
    expect(figures.ids).toBe(total);
    expect(figures.totals).toEqual(baseline);
  }, 420_000);

  it('two inference members share the partitions; a third joins and leaves mid-stream: nothing lost, nothing counted twice', async () => {
    const { crops: original, baseline } = needCorpus();
    const cameras = 12;
    const crops = fanOutCrops(original, cameras);
    await h.resetTopics(6);
    const db = await h.database('dist_rebalance');
    const config = h.writeConfig('rebalance', { partitions: 6 });
    const [, a, b] = await Promise.all([
      h.spawn('analytics', 'analytics', config, db),
      h.spawn('inference', 'inference-a', config),
      h.spawn('inference', 'inference-b', config),
    ]);
    const replay = await h.replayer(FACE_CROPS_TOPIC, crops);
    await replay.stream(60, () => replay.sent >= crops.length / 4);
    await until(
      'both members to receive crops',
      async () =>
        (await delivered(a, CROPS, 'crowdlens-inference')) > 0 && (await delivered(b, CROPS, 'crowdlens-inference')) > 0
          ? true
          : undefined,
      60_000,
    );
    // The third member joins and leaves while crops keep coming.
    let thirdLeft = false;
    // Slows to a trickle near the end, so crops are still coming however long the third takes to start.
    const streaming = replay.stream(
      () => (replay.sent < crops.length * 0.85 ? 25 : 2),
      () => thirdLeft,
    );
    const c = await h.spawn('inference', 'inference-c', config);
    const sentAtJoin = replay.sent;
    await until(
      'the third member to receive crops',
      async () => ((await delivered(c, CROPS, 'crowdlens-inference')) > 0 ? true : undefined),
      60_000,
    );
    const byC = await delivered(c, CROPS, 'crowdlens-inference');
    const exitC = await c.stop();
    const sentAtLeave = replay.sent;
    thirdLeft = true;
    await streaming;
    await replay.stream(60);
    await replay.close();

    const figures = await settled(db.url, crops.length, 180_000);
    const [byA, byB] = await Promise.all([
      delivered(a, CROPS, 'crowdlens-inference'),
      delivered(b, CROPS, 'crowdlens-inference'),
    ]);
    const predictions = await h.topicCount(GENDER_PREDICTIONS_TOPIC);
    const cropsInTopic = await h.topicCount(FACE_CROPS_TOPIC);
    // Which crops were inferred twice, by the partition they sat on.
    const twice = new Map<number, number>();
    const partitionOfCamera = new Map<string, number>();
    for (const m of await h.readTopic(FACE_CROPS_TOPIC)) partitionOfCamera.set(m.key, m.partition);
    const seenIds = new Set<string>();
    for (const m of await h.readTopic(GENDER_PREDICTIONS_TOPIC)) {
      const p = JSON.parse(m.value.toString('utf8')) as GenderPrediction;
      if (seenIds.has(p.predictionId)) {
        const partition = partitionOfCamera.get(p.cameraId) ?? -1;
        twice.set(partition, (twice.get(partition) ?? 0) + 1);
      }
      seenIds.add(p.predictionId);
    }
    report(
      `rebalance test: ${cropsInTopic} crops in the topic; inferred twice, by crop partition: ${JSON.stringify([...twice].sort())}`,
    );
    report(
      `rebalance test: sent ${crops.length} crops on ${cameras} cameras / 6 partitions; inference a handled ${byA}, b ${byB}, ` +
        `c ≥${byC} (joined after ${sentAtJoin} sent, left after ${sentAtLeave}); ${predictions} predictions published ` +
        `(${predictions - crops.length} redelivered); counted ${figures.ids} distinct ids, faces ${figures.totals.faces}`,
    );
    expect(exitC.signal === 'SIGTERM' || exitC.code === 0).toBe(true);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
    expect(byC).toBeGreaterThan(0);
    // Every crop inferred at least once (c's count is from before its drain, so the sum is checked on the topic).
    expect(predictions).toBeGreaterThanOrEqual(crops.length);
    expect(figures.ids).toBe(crops.length);
    expect(figures.totals.faces).toBe(crops.length);
    for (let k = 0; k < cameras; k++) expect(figures.totalsByCamera.get(`cam-${k}`)).toEqual(baseline);
  }, 420_000);

  it('poison messages go to the dead-letter topic, the stream keeps flowing, replayed predictions count once', async () => {
    const { predictions, baseline } = needCorpus();
    await h.resetTopics(3);
    const db = await h.database('dist_poison');
    const analytics = await h.spawn('analytics', 'analytics', h.writeConfig('poison'), db);
    const json = { 'content-type': 'application/json', 'schema-version': '1' };
    const first = predictions[0]!;
    const poison: RawMessage[] = [
      { ...first, headers: json, value: Buffer.from('{"predictionId": "broken", oops') },
      {
        ...first,
        headers: { ...json, 'schema-version': '2' },
        value: Buffer.from(JSON.stringify({ ...JSON.parse(first.value.toString('utf8')), schemaVersion: 2 })),
      },
    ];
    // Same key as the stream: the poison sits on the same partition, in the middle of it. At the
    // end, the first ten predictions come again, as a producer retry or a replay would send them.
    const half = Math.floor(predictions.length / 2);
    const again = predictions.slice(0, 10);
    const stream = [...predictions.slice(0, half), ...poison, ...predictions.slice(half), ...again];
    const replay = await h.replayer(GENDER_PREDICTIONS_TOPIC, stream);
    await replay.stream(100);
    await replay.close();

    await settled(db.url, predictions.length);
    const duplicates = await until(
      'the replayed predictions to be recognised',
      async () => {
        const n = (await analytics.metrics()).value('crowdlens_analytics_predictions_duplicate_total') ?? 0;
        return n >= again.length ? n : undefined;
      },
      30_000,
    );
    const figures = await pgFigures(db.url);
    const letters = (await h.readTopic(DEAD_LETTERS_TOPIC)).map((m) =>
      DeadLetterSchema.parse(JSON.parse(m.value.toString('utf8'))),
    );
    const health = await fetch(`${analytics.url}/health`);
    report(
      `poison test: sent ${stream.length} messages (${poison.length} poison) to ${GENDER_PREDICTIONS_TOPIC.name}; ` +
        `${letters.length} dead letters: ${letters.map((l) => JSON.stringify(l.reason.slice(0, 80))).join(', ')}; ` +
        `${again.length} sent twice, ${duplicates} recognised as duplicates; counted ${figures.ids} predictions`,
    );
    expect(letters).toHaveLength(2);
    expect(letters.every((l) => l.sourceTopic === GENDER_PREDICTIONS_TOPIC.name && l.key === first.key)).toBe(true);
    const reasons = letters.map((l) => l.reason).sort();
    expect(reasons[0]).toMatch(/^crowdlens-analytics: invalid JSON/);
    expect(reasons[1]).toMatch(/^crowdlens-analytics: schema version 2, expected 1/);
    expect(Buffer.from(letters.find((l) => /invalid JSON/.test(l.reason))!.payloadBase64, 'base64')).toEqual(
      poison[0]!.value,
    );
    // Everything after the poison was counted, by the same process.
    expect(analytics.running).toBe(true);
    expect(health.status).toBe(200);
    expect(figures.ids).toBe(predictions.length);
    expect(duplicates).toBe(again.length);
    // The replayed ten changed nothing.
    expect(figures.totals).toEqual(baseline);
  }, 300_000);

  it('SIGTERM to inference flushes its batcher and commits: nothing lost, nothing redelivered', async () => {
    const { crops: original, baseline } = needCorpus();
    const cameras = 3;
    const crops = fanOutCrops(original, cameras);
    await h.resetTopics(3);
    const db = await h.database('dist_sigterm');
    const config = h.writeConfig('sigterm');
    const [, first] = await Promise.all([
      h.spawn('analytics', 'analytics', config, db),
      h.spawn('inference', 'inference-first', config),
    ]);
    const replay = await h.replayer(FACE_CROPS_TOPIC, crops);
    // The last third is held back until SIGTERM is on its way, however slow counting is on a busy
    // machine: the stop must come while crops are still arriving.
    let stopping = false;
    const streaming = replay.stream(() => (stopping || replay.sent < (crops.length * 2) / 3 ? 15 : 0));
    await until(
      'a third of the stream counted',
      async () => ((await pgFigures(db.url)).ids >= crops.length / 3 ? true : undefined),
      120_000,
      200,
    );
    const handledBeforeStop = await delivered(first, CROPS, 'crowdlens-inference');
    const t0 = Date.now();
    stopping = true;
    // Read as SIGTERM goes out: how many crops were sent by then, however long the stop takes.
    const sentAtStop = replay.sent;
    const exit = await first.stop();
    const stopMs = Date.now() - t0;
    // With no member left, the group's committed position is exactly what the stopped member finished.
    const committed = await h.committed(INFERENCE_GROUP, FACE_CROPS_TOPIC);
    const publishedAtStop = await h.topicCount(GENDER_PREDICTIONS_TOPIC);
    const second = await h.spawn('inference', 'inference-second', config);
    await streaming;
    await replay.close();
    const figures = await settled(db.url, crops.length);
    const predictions = await h.topicCount(GENDER_PREDICTIONS_TOPIC);
    const bySecond = await delivered(second, CROPS, 'crowdlens-inference');
    report(
      `SIGTERM test: sent ${crops.length} crops; the first inference process had handled ≥${handledBeforeStop} when ` +
        `SIGTERM came (after ${sentAtStop} sent), exited in ${stopMs} ms (${JSON.stringify(exit)}) having published ` +
        `${publishedAtStop} predictions and committed ${committed} crop offsets; the second handled ${bySecond}; ` +
        `${predictions} predictions in all (${predictions - crops.length} redelivered), counted ${figures.ids}`,
    );
    expect(exit.signal === 'SIGTERM' || exit.code === 0).toBe(true);
    expect(committed).toBe(publishedAtStop);
    expect(sentAtStop).toBeLessThan(crops.length); // crops were still coming
    expect(committed + bySecond).toBe(crops.length);
    expect(predictions).toBe(crops.length);
    expect(figures.ids).toBe(crops.length);
    for (let k = 0; k < cameras; k++) expect(figures.totalsByCamera.get(`cam-${k}`)).toEqual(baseline);
  }, 300_000);
});
