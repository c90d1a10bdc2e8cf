/**
 * Analytics dies at its worst moment: the database transaction holding a
 * prediction has committed, the Kafka offset of that prediction has not. A
 * child process (fixtures/recorder-consumer.ts: real KafkaBus, real
 * PredictionRecorder, real store) SIGKILLs itself right there; a second run in
 * the same group gets those predictions again and must count none of them
 * twice. Once per store backend (SQLite file, PostgreSQL database).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { GENDER_PREDICTIONS_TOPIC, type GenderPrediction } from '@crowdlens/contracts';
import { KafkaBus, kafkaGroupId } from '@crowdlens/bus';
import type { Admin } from 'kafkajs';
import { voteTrack, type VotePolicy } from '../../apps/analytics/src/services/track-vote';
import { REPO_ROOT, uniqueName } from '../support/deploy-scripts';
import { TopicJanitor, ensureKafka, rawKafka, type KafkaInstance } from '../support/kafka';
import { createTestDatabase } from '../support/postgres';
import { personPrediction } from '../support/predictions';
import { report, until, waitFor } from '../support/wait';

const PARTITIONS = 2;
const N = 300;
/**
 * Phase 1 is consumed and committed in Kafka before phase 2 is published, so the crash happens mid-stream;
 * phase 3 is published after the crash, so run 2 has new predictions to apply besides the redelivered ones.
 */
const PHASE_1 = 150;
const PHASE_2_END = 250;
const CRASH_AFTER_COMMIT = 225;
const CAMERAS = ['cam-a', 'cam-b', 'cam-c', 'cam-d'];
const TRACKS_PER_CAMERA = 5;
/** Per track: mostly men, mostly women, undecided... so the votes move between genders as evidence comes in. */
const TRACK_PROB_MALE = [0.9, 0.15, 0.55, 0.75, 0.3];
/** minEvidence 2: every track starts 'unknown' and moves once, exercising the bucket moves on replay too. */
const POLICY: VotePolicy = { minEvidence: 2, minMargin: 0.1 };
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

function predictions(): GenderPrediction[] {
  return Array.from({ length: N }, (_, i) => {
    const camera = CAMERAS[i % CAMERAS.length]!;
    const k = Math.floor(i / CAMERAS.length) % TRACKS_PER_CAMERA;
    const jitter = (((i * 7) % 11) - 5) / 100;
    return personPrediction(`p-${i}`, camera, `${camera}/t${k}`, T0 + i * 100, TRACK_PROB_MALE[k]! + jitter);
  });
}

/** The store the child writes and the test reads back directly, bypassing the store's own code. */
interface StoreUnderTest {
  readonly env: Record<string, string>;
  all<R>(sql: string): Promise<R[]>;
  dispose(): Promise<void>;
}

async function sqliteStore(): Promise<StoreUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'crowdlens-crash-db-'));
  const path = join(dir, 'analytics.db');
  return {
    env: { SQLITE_PATH: path },
    // A connection per read: the child writes the file meanwhile (WAL), and may have died holding it.
    all: async <R>(sql: string) => {
      const db = new Database(path, { fileMustExist: true });
      try {
        db.pragma('busy_timeout = 5000');
        return db.prepare(sql).all() as R[];
      } finally {
        db.close();
      }
    },
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresStore(): Promise<StoreUnderTest> {
  const database = await createTestDatabase('crash_db');
  const client = new Client({ connectionString: database.url });
  await client.connect();
  return {
    env: { POSTGRES_URL: database.url },
    all: async <R>(sql: string) => (await client.query(sql)).rows as R[],
    dispose: async () => {
      await client.end();
      await database.drop();
    },
  };
}

interface ChildEvent {
  readonly event: 'ready' | 'recorded' | 'committed-db-then-sigkill' | 'stopped';
  readonly n?: number;
  readonly id?: string;
  readonly partition?: number;
  readonly offset?: string;
  readonly recorded?: number;
  readonly applied?: number;
  readonly duplicates?: number;
}

/** One run of fixtures/recorder-consumer.ts, its stdout parsed into events. */
class RecorderChild {
  readonly events: ChildEvent[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  /** Its logger writes here. */
  stderr = '';

  constructor(env: Record<string, string>) {
    this.child = spawn(
      resolve(REPO_ROOT, 'node_modules/.bin/vite-node'),
      ['--config', 'vitest.config.ts', 'test/kafka/fixtures/recorder-consumer.ts'],
      { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) this.events.push(JSON.parse(line) as ChildEvent);
    });
    this.exited = new Promise((done) => this.child.on('exit', (code, signal) => done({ code, signal })));
  }

  find(event: ChildEvent['event']): ChildEvent | undefined {
    return this.events.find((e) => e.event === event);
  }

  count(event: ChildEvent['event']): number {
    return this.events.filter((e) => e.event === event).length;
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running()) this.child.kill(signal);
  }

  async dispose(): Promise<void> {
    if (!this.running()) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

describe('analytics killed after its database commit, before its Kafka commit', () => {
  let kafka: KafkaInstance;
  let janitor: TopicJanitor;
  let admin: Admin;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    kafka = await ensureKafka();
    if (kafka.startMs > 0) report(`kafka broker started in ${kafka.startMs} ms`);
    janitor = new TopicJanitor(kafka.brokers);
    admin = rawKafka(kafka.brokers).admin();
    await admin.connect();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await admin?.disconnect();
    await janitor?.cleanup();
  });

  /** Offsets the group has committed, summed over partitions: with a fresh topic, the messages it has consumed. */
  const committedCount = async (groupId: string, topic: string): Promise<number> => {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  };
  const committedOffset = async (groupId: string, topic: string, partition: number): Promise<number> => {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Number(offsets?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
  };
  const storedIds = async (store: StoreUnderTest): Promise<number> =>
    Number((await store.all<{ n: number | string }>(`SELECT COUNT(*) AS n FROM applied_predictions`))[0]!.n);

  it.each([
    ['SQLite', sqliteStore],
    ['PostgreSQL', postgresStore],
  ])(
    '%s: the redelivered predictions are recognised and nothing is counted twice',
    async (label, openStore) => {
      const t0 = Date.now();
      const store = await openStore();
      cleanups.push(() => store.dispose());
      const topic = janitor.topic(GENDER_PREDICTIONS_TOPIC, 'crash-db');
      const group = uniqueName('analytics');
      const groupId = kafkaGroupId(group, topic);
      const childEnv = {
        ...store.env,
        BROKERS: kafka.brokers.join(','),
        TOPIC: topic.name,
        GROUP: group,
        PARTITIONS: String(PARTITIONS),
        VOTE_POLICY: JSON.stringify(POLICY),
      };
      const producer = new KafkaBus({
        brokers: kafka.brokers,
        clientId: uniqueName('crash-db-producer'),
        partitions: PARTITIONS,
        cropRetentionMs: 60_000,
        retentionMs: 3_600_000,
      });
      cleanups.push(() => producer.close());
      const sent = predictions();
      const publish = (batch: GenderPrediction[]) => Promise.all(batch.map((p) => producer.publish(topic, p)));

      // Run 1: creates the topic, pins the new group at its (empty) end, then dies at the chosen commit.
      const first = new RecorderChild({ ...childEnv, CRASH_AFTER_COMMIT: String(CRASH_AFTER_COMMIT) });
      cleanups.push(() => first.dispose());
      onTestFailed(() => report(`${label} run 1 stderr: ${first.stderr.slice(-2_000)}`));
      await waitFor('run 1 to join', () => first.find('ready') !== undefined || !first.running(), 60_000);
      expect(first.find('ready')).toBeDefined();

      await publish(sent.slice(0, PHASE_1));
      await until(
        'phase 1 committed in Kafka',
        async () => ((await committedCount(groupId, topic.name)) === PHASE_1 ? true : undefined),
        30_000,
      );
      await publish(sent.slice(PHASE_1, PHASE_2_END));
      await waitFor(`run 1 to die after recording #${CRASH_AFTER_COMMIT}`, () => !first.running(), 30_000);
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

      const crash = first.find('committed-db-then-sigkill');
      expect(crash).toMatchObject({ n: CRASH_AFTER_COMMIT });
      const idsAtCrash = new Set(
        (await store.all<{ prediction_id: string }>(`SELECT prediction_id FROM applied_predictions`)).map(
          (r) => r.prediction_id,
        ),
      );
      const dbAtCrash = idsAtCrash.size;
      const kafkaAtCrash = await committedCount(groupId, topic.name);
      // The crash window: the database holds the crash message (and at least everything recorded before it),
      // Kafka has not moved past it, so the database is ahead of the committed offsets.
      expect(idsAtCrash.has(crash!.id!)).toBe(true);
      expect(await committedOffset(groupId, topic.name, crash!.partition!)).toBeLessThanOrEqual(Number(crash!.offset));
      expect(dbAtCrash).toBeGreaterThanOrEqual(CRASH_AFTER_COMMIT);
      expect(kafkaAtCrash).toBeGreaterThanOrEqual(PHASE_1);
      expect(kafkaAtCrash).toBeLessThan(dbAtCrash);
      await publish(sent.slice(PHASE_2_END));

      // Run 2: same group, same database, no crash; runs until everything is stored and committed.
      const restartedAt = Date.now();
      const second = new RecorderChild(childEnv);
      cleanups.push(() => second.dispose());
      onTestFailed(() => report(`${label} run 2 stderr: ${second.stderr.slice(-2_000)}`));
      await until(
        'every prediction stored and committed by run 2',
        async () => {
          if (!second.running()) throw new Error('run 2 exited');
          const stored = await storedIds(store);
          return stored === N && (await committedCount(groupId, topic.name)) === N ? true : undefined;
        },
        45_000,
      );
      const catchUpMs = Date.now() - restartedAt;
      // The cameras' keys spread over both partitions: two windows, two committed offsets to get right.
      const ends = await admin.fetchTopicOffsets(topic.name);
      expect(ends.map((e) => Number(e.high)).every((high) => high > 0)).toBe(true);
      second.signal('SIGTERM');
      expect(await second.exited).toEqual({ code: 0, signal: null });
      const stopped = second.find('stopped');

      report(
        `${label} crash after DB commit: sent ${N} over ${PARTITIONS} partitions, run 1 SIGKILLed after recording ` +
          `#${CRASH_AFTER_COMMIT} (${crash!.id} p${crash!.partition}@${crash!.offset}) with ${dbAtCrash} ids in the ` +
          `database and ${kafkaAtCrash} offsets committed; run 2 received ${stopped?.recorded} ` +
          `(${stopped?.duplicates} duplicates ignored, ${stopped?.applied} applied) in ${catchUpMs} ms; ` +
          `test ${Date.now() - t0} ms`,
      );
      // Run 2 got exactly the uncommitted tail: the stored part of it as duplicates, the rest applied.
      expect(stopped).toMatchObject({
        duplicates: dbAtCrash - kafkaAtCrash,
        applied: N - dbAtCrash,
        recorded: N - kafkaAtCrash,
      });
      expect(stopped!.duplicates).toBeGreaterThanOrEqual(1);
      expect(stopped!.applied).toBeGreaterThanOrEqual(N - PHASE_2_END);

      // The database, read directly: every prediction once, every count as if there had been no crash.
      const ids = await store.all<{ prediction_id: string }>(`SELECT prediction_id FROM applied_predictions`);
      expect(ids).toHaveLength(N);
      expect(new Set(ids.map((r) => r.prediction_id))).toEqual(new Set(sent.map((p) => p.predictionId)));

      const expected = new Map<string, { cameraId: string; trackId: string; crops: number; sum: number }>();
      for (const p of sent) {
        const key = `${p.cameraId}|${p.trackId}`;
        const t = expected.get(key) ?? { cameraId: p.cameraId, trackId: p.trackId, crops: 0, sum: 0 };
        expected.set(key, { ...t, crops: t.crops + 1, sum: t.sum + p.probMale });
      }
      const tracks = await store.all<{
        camera_id: string;
        track_id: string;
        crops: number | string;
        sum_prob_male: number | string;
        vote: string;
      }>(`SELECT camera_id, track_id, crops, sum_prob_male, vote FROM tracks ORDER BY camera_id, track_id`);
      expect(tracks).toHaveLength(expected.size);
      for (const t of tracks) {
        const want = expected.get(`${t.camera_id}|${t.track_id}`);
        expect(want, `${t.camera_id}/${t.track_id}`).toBeDefined();
        expect(Number(t.crops), `${t.track_id} crops`).toBe(want!.crops);
        expect(Number(t.sum_prob_male)).toBeCloseTo(want!.sum, 9);
        expect(t.vote).toBe(voteTrack(want!.crops, want!.sum, POLICY));
      }

      const buckets = await store.all<{
        size: string;
        faces: number | string;
        visitors: number | string;
        male: number | string;
        female: number | string;
        unknown: number | string;
      }>(
        `SELECT size, SUM(faces) AS faces, SUM(visitors) AS visitors, SUM(male) AS male, SUM(female) AS female,
              SUM(unknown) AS unknown
         FROM buckets GROUP BY size ORDER BY size`,
      );
      const votes = [...expected.values()].map((t) => voteTrack(t.crops, t.sum, POLICY));
      const people = {
        visitors: expected.size,
        male: votes.filter((v) => v === 'male').length,
        female: votes.filter((v) => v === 'female').length,
        unknown: votes.filter((v) => v === 'unknown').length,
      };
      expect(people.male).toBeGreaterThan(0);
      expect(people.female).toBeGreaterThan(0);
      const totals = buckets.map((b) => ({
        size: b.size,
        faces: Number(b.faces),
        visitors: Number(b.visitors),
        male: Number(b.male),
        female: Number(b.female),
        unknown: Number(b.unknown),
      }));
      expect(totals).toEqual(['day', 'hour', 'minute'].map((size) => ({ size, faces: N, ...people })));
      const [late] = await store.all<{ n: number | string }>(`SELECT SUM(late_events) AS n FROM camera_watermarks`);
      expect(Number(late!.n)).toBe(0);
    },
    90_000,
  );
});
