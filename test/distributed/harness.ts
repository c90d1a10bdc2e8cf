/**
 * What the distributed-mode tests share: a dedicated Kafka broker (the apps'
 * topic names are fixed contract constants, so the suite gets a broker of its
 * own and empties it between tests), a PostgreSQL database per test, config
 * files, the role processes, and raw access to the topics (capture, replay,
 * counts) that goes around the apps to observe them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { Kafka, logLevel, type Admin, type IHeaders, type Producer } from 'kafkajs';
import {
  CAMERA_STATUS_TOPIC,
  DEAD_LETTERS_TOPIC,
  FACE_CROPS_TOPIC,
  GENDER_PREDICTIONS_TOPIC,
  TRACK_EVENTS_TOPIC,
  type Topic,
} from '@crowdlens/contracts';
import { decodeBinary, encodeBinary, topicConfig } from '@crowdlens/bus';
import { PostgresDriver, SqliteDriver, type SqlDriver } from '@crowdlens/storage';
import { REPO_ROOT } from '../support/deploy-scripts';
import { DedicatedKafka } from '../support/kafka';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { CrowdLensProcess, stopAll, type CrowdLensRole } from '../support/crowdlens-process';
import { sleep, until } from '../support/wait';

export const APP_TOPICS: readonly Topic[] = [
  FACE_CROPS_TOPIC,
  GENDER_PREDICTIONS_TOPIC,
  DEAD_LETTERS_TOPIC,
  CAMERA_STATUS_TOPIC,
  TRACK_EVENTS_TOPIC,
];
export const SAMPLE_VIDEO = join(REPO_ROOT, 'assets/sample.mp4');
/** Sampled frames per second of the sample video; with `realtime: false` every one is analysed. */
export const SAMPLE_FPS = 3;
export const CROP_RETENTION_MS = 10 * 60_000;

/** A message as it sat in a topic: enough to publish it again byte for byte. */
export interface RawMessage {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
  readonly partition: number;
  readonly offset: string;
}

export interface Totals {
  readonly faces: number;
  readonly visitors: number;
  readonly male: number;
  readonly female: number;
  readonly unknown: number;
}

export interface BucketRow extends Totals {
  readonly cameraId: string;
  readonly size: string;
  readonly bucketStart: number;
}

export interface TrackRow {
  readonly cameraId: string;
  readonly firstTs: number;
  readonly lastTs: number;
  readonly crops: number;
  readonly vote: string;
}

/** Everything the store holds, read with the store's own SQL drivers (same SQL on SQLite and PostgreSQL). */
export interface StoreFigures {
  /** Distinct prediction ids applied (the idempotency keys). */
  readonly ids: number;
  readonly totals: Totals;
  readonly totalsByCamera: ReadonlyMap<string, Totals>;
  readonly buckets: readonly BucketRow[];
  readonly tracks: readonly TrackRow[];
}

export async function readStore(driver: SqlDriver): Promise<StoreFigures> {
  const [ids] = await driver.all<{ n: number | string }>(`SELECT COUNT(*) AS n FROM applied_predictions`);
  const buckets = (
    await driver.all<Record<string, number | string>>(
      `SELECT camera_id, size, bucket_start, faces, visitors, male, female, unknown
         FROM buckets WHERE faces <> 0 OR visitors <> 0
        ORDER BY size, bucket_start, camera_id`,
    )
  ).map((r): BucketRow => ({
    cameraId: String(r.camera_id),
    size: String(r.size),
    bucketStart: Number(r.bucket_start),
    faces: Number(r.faces),
    visitors: Number(r.visitors),
    male: Number(r.male),
    female: Number(r.female),
    unknown: Number(r.unknown),
  }));
  const tracks = (
    await driver.all<Record<string, number | string>>(
      `SELECT camera_id, first_ts, last_ts, crops, vote FROM tracks ORDER BY camera_id, first_ts, track_id`,
    )
  ).map((r): TrackRow => ({
    cameraId: String(r.camera_id),
    firstTs: Number(r.first_ts),
    lastTs: Number(r.last_ts),
    crops: Number(r.crops),
    vote: String(r.vote),
  }));
  const totalsByCamera = new Map<string, Totals>();
  for (const b of buckets.filter((r) => r.size === 'minute')) {
    totalsByCamera.set(b.cameraId, addTotals(totalsByCamera.get(b.cameraId) ?? ZERO, b));
  }
  const totals = [...totalsByCamera.values()].reduce(addTotals, ZERO);
  return { ids: Number(ids?.n ?? 0), totals, totalsByCamera, buckets, tracks };
}

export const ZERO: Totals = { faces: 0, visitors: 0, male: 0, female: 0, unknown: 0 };

export function addTotals(a: Totals, b: Totals): Totals {
  return {
    faces: a.faces + b.faces,
    visitors: a.visitors + b.visitors,
    male: a.male + b.male,
    female: a.female + b.female,
    unknown: a.unknown + b.unknown,
  };
}

export function pickTotals(t: Totals): Totals {
  return { faces: t.faces, visitors: t.visitors, male: t.male, female: t.female, unknown: t.unknown };
}

export async function withPostgres<T>(url: string, work: (driver: SqlDriver) => Promise<T>): Promise<T> {
  const driver = new PostgresDriver({ url, maxConnections: 1 });
  try {
    return await work(driver);
  } finally {
    await driver.close();
  }
}

export async function withSqlite<T>(path: string, work: (driver: SqlDriver) => Promise<T>): Promise<T> {
  const driver = new SqliteDriver(path);
  try {
    return await work(driver);
  } finally {
    await driver.close();
  }
}

export interface ConfigOptions {
  readonly partitions?: number;
  readonly cameras?: readonly Record<string, unknown>[];
  /** false = no bus/store section: the embedded defaults (in-memory bus, SQLite). */
  readonly kafka?: boolean;
}

/** The sample video as a batch job: every sampled frame analysed, frames stamped with media time, no loop. */
export const SAMPLE_CAMERA = {
  id: 'entrance',
  name: 'Entrance (sample video)',
  url: SAMPLE_VIDEO,
  fps: SAMPLE_FPS,
  realtime: false,
  loop: false,
};

export class DistributedHarness {
  readonly workDir = mkdtempSync(join(tmpdir(), 'crowdlens-distributed-'));
  readonly logDir = join(this.workDir, 'logs');
  private readonly procs = new Set<CrowdLensProcess>();
  private readonly databases: TestDatabase[] = [];
  private admin: Admin | null = null;
  private counter = 0;

  private constructor(readonly kafka: DedicatedKafka) {
    mkdirSync(this.logDir, { recursive: true });
  }

  static async start(): Promise<DistributedHarness> {
    return new DistributedHarness(await DedicatedKafka.start('distributed'));
  }

  get brokers(): string[] {
    return this.kafka.brokers;
  }

  private rawKafka(clientId: string): Kafka {
    return new Kafka({
      clientId,
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 3_000 },
    });
  }

  async adminClient(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.rawKafka('distributed-test-admin').admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }

  async database(label: string): Promise<TestDatabase> {
    const db = await createTestDatabase(label);
    this.databases.push(db);
    return db;
  }

  writeConfig(name: string, options: ConfigOptions = {}): string {
    const config: Record<string, unknown> = {
      logLevel: 'info',
      http: { host: '127.0.0.1' },
      cameras: options.cameras ?? [SAMPLE_CAMERA],
    };
    if (options.kafka !== false) {
      config.bus = {
        type: 'kafka',
        brokers: this.brokers,
        partitions: options.partitions ?? 3,
        cropRetentionMs: CROP_RETENTION_MS,
      };
    }
    const path = join(this.workDir, `${name}.yaml`);
    writeFileSync(path, toYaml(config));
    return path;
  }

  /** Starts one role process and waits until it is ready (subscribed and joined). */
  async spawn(
    role: CrowdLensRole,
    name: string,
    configPath: string,
    db?: TestDatabase,
    kafka = true,
  ): Promise<CrowdLensProcess> {
    const dataDir = join(this.workDir, `data-${name}-${++this.counter}`);
    mkdirSync(dataDir, { recursive: true });
    const proc = await CrowdLensProcess.start({
      role,
      name: `${name}-${this.counter}`,
      configPath,
      dataDir,
      logDir: this.logDir,
      ...(kafka ? { kafkaBrokers: this.brokers } : {}),
      ...(db ? { postgresUrl: db.url } : {}),
    });
    this.procs.add(proc);
    void proc.exited.then(() => this.procs.delete(proc));
    return proc;
  }

  async stopProcesses(): Promise<void> {
    await stopAll([...this.procs]);
  }

  /**
   * Empties the broker between tests: the contract topics are deleted (and
   * with them every committed offset on them) and created again with
   * `partitions`, and the then empty consumer groups are deleted.
   */
  async resetTopics(partitions: number): Promise<void> {
    const admin = await this.adminClient();
    const names = APP_TOPICS.map((t) => t.name);
    const existing = new Set(await admin.listTopics());
    const doomed = names.filter((n) => existing.has(n));
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed, timeout: 30_000 });
    await until(
      'the deleted topics to disappear',
      async () => ((await admin.listTopics()).some((n) => names.includes(n)) ? undefined : true),
      30_000,
    );
    await deleteAllGroups(admin);
    await until(
      'the topics to be created again',
      async () =>
        admin
          .createTopics({
            waitForLeaders: true,
            topics: APP_TOPICS.map((t) => ({
              topic: t.name,
              numPartitions: partitions,
              // What the apps' bus would create (crops: short retention, segments rolling).
              configEntries: topicConfig(t, { retentionMs: 7 * 86_400_000, cropRetentionMs: CROP_RETENTION_MS }),
            })),
          })
          .then(() => true),
      30_000,
      500,
    );
  }

  /** Messages in a topic (sum of the partitions' end offsets; no transactions here, so no markers). */
  async topicCount(topic: Topic): Promise<number> {
    const admin = await this.adminClient();
    const offsets = await admin.fetchTopicOffsets(topic.name);
    return offsets.reduce((s, o) => s + Number(o.high) - Number(o.low), 0);
  }

  /** A group's committed offsets on a topic, summed over partitions (none = 0). */
  async committed(groupId: string, topic: Topic): Promise<number> {
    const admin = await this.adminClient();
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic.name] });
    return (t?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  }

  /** Every message in the topic right now, read with a throwaway consumer group. */
  async readTopic(topic: Topic, timeoutMs = 60_000): Promise<RawMessage[]> {
    const admin = await this.adminClient();
    const ends = new Map(
      (await admin.fetchTopicOffsets(topic.name)).map((o) => [
        o.partition,
        { low: BigInt(o.low), high: BigInt(o.high) },
      ]),
    );
    const pending = new Set([...ends].filter(([, e]) => e.high > e.low).map(([p]) => p));
    const out: RawMessage[] = [];
    if (pending.size === 0) return out;
    const consumer = this.rawKafka('distributed-test-reader').consumer({
      groupId: `distributed-test-reader-${Date.now()}-${++this.counter}`,
      maxWaitTimeInMs: 200,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: topic.name, fromBeginning: true });
      let finished!: () => void;
      const done = new Promise<void>((r) => (finished = r));
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const end = ends.get(partition)!;
          if (BigInt(message.offset) >= end.high) return;
          out.push({
            key: message.key?.toString('utf8') ?? '',
            value: message.value ?? Buffer.alloc(0),
            headers: stringHeaders(message.headers),
            partition,
            offset: message.offset,
          });
          if (BigInt(message.offset) === end.high - 1n) {
            pending.delete(partition);
            if (pending.size === 0) finished();
          }
        },
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        done,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`reading ${topic.name}: ${out.length} messages after ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      clearTimeout(timer);
    } finally {
      await consumer.disconnect();
    }
    return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  }

  /** A producer that publishes captured messages again, byte for byte (keys keep their partitions). */
  async replayer(topic: Topic, messages: readonly RawMessage[]): Promise<Replayer> {
    const producer = this.rawKafka('distributed-test-replay').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    return new Replayer(producer, topic, messages);
  }

  /** Stops everything; the work directory (process logs, configs) stays when `keepLogs`, for a post-mortem. */
  async close(keepLogs = false): Promise<void> {
    await this.stopProcesses();
    await this.admin?.disconnect().catch(() => undefined);
    await Promise.allSettled(this.databases.map((d) => d.drop()));
    await this.kafka.destroy();
    if (keepLogs || process.env.CROWDLENS_KEEP_TEST_DIRS) {
      process.stderr.write(`distributed tests: process logs kept in ${this.logDir}\n`);
    } else {
      rmSync(this.workDir, { recursive: true, force: true });
    }
  }
}

/** Publishes a list of messages in order, at a chosen pace, from where it left off. */
export class Replayer {
  private cursor = 0;

  constructor(
    private readonly producer: Producer,
    private readonly topic: Topic,
    private readonly messages: readonly RawMessage[],
  ) {}

  get sent(): number {
    return this.cursor;
  }

  get done(): boolean {
    return this.cursor >= this.messages.length;
  }

  /** Sends up to `n` more messages in one request. */
  async send(n: number): Promise<number> {
    const batch = this.messages.slice(this.cursor, this.cursor + n);
    if (batch.length === 0) return 0;
    await this.producer.send({
      topic: this.topic.name,
      acks: -1,
      messages: batch.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
    });
    this.cursor += batch.length;
    return batch.length;
  }

  /** Streams at about `perSecond` (asked again every tick) until `stop()` says so or everything was sent. */
  async stream(perSecond: number | (() => number), stop: () => boolean = () => false): Promise<void> {
    const tickMs = 100;
    let owed = 0;
    while (!this.done && !stop()) {
      const t0 = Date.now();
      owed += ((typeof perSecond === 'number' ? perSecond : perSecond()) * tickMs) / 1000;
      if (owed >= 1) {
        const n = Math.floor(owed);
        owed -= n;
        await this.send(n);
      }
      await sleep(Math.max(0, tickMs - (Date.now() - t0)));
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

/**
 * The captured crops, copied onto `cameras` cameras: each copy gets its own
 * camera id (the key, so copies spread over partitions), crop ids and track
 * ids. Every copy must aggregate to exactly the original's totals.
 */
export function fanOutCrops(crops: readonly RawMessage[], cameras: number): RawMessage[] {
  const out: RawMessage[] = [];
  // Interleaved (crop 0 of every camera, then crop 1, ...) like cameras streaming side by side.
  for (const m of crops) {
    const crop = decodeBinary(m.value);
    for (let k = 0; k < cameras; k++) {
      const cameraId = `cam-${k}`;
      const value = encodeBinary({
        ...crop,
        cameraId,
        cropId: `${cameraId}-${String(crop.cropId)}`,
        trackId: `${cameraId}-${String(crop.trackId)}`,
      });
      out.push({ ...m, key: cameraId, value });
    }
  }
  return out;
}

function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}

/**
 * Deletes every consumer group. A member that did not leave (its process
 * killed, or a JoinGroup the broker took but whose answer was lost in a
 * broker restart) keeps its group non-empty until the broker expires it:
 * after the session timeout, or the rebalance timeout (60 s) while a
 * rebalance waits for it. So a NON_EMPTY_GROUP is waited out, and reported.
 */
async function deleteAllGroups(admin: Admin, timeoutMs = 90_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const { groups } = await admin.listGroups();
    if (groups.length === 0) return;
    const results = await admin.deleteGroups(groups.map((g) => g.groupId)).catch((err: unknown) => {
      const partial = (err as { groups?: { groupId: string; errorCode: number }[] }).groups;
      if (!partial) throw err;
      return partial;
    });
    const stuck = results.filter((r) => r.errorCode !== 0 && r.errorCode !== 69 /* GROUP_ID_NOT_FOUND */);
    if (stuck.length === 0) {
      if (Date.now() - t0 > 1_000)
        process.stderr.write(`broker reset: lingering group members expired after ${Date.now() - t0} ms\n`);
      return;
    }
    const { groups: described } = await admin.describeGroups(stuck.map((g) => g.groupId));
    const lingering = described.map((g) => ({
      group: g.groupId,
      state: g.state,
      members: g.members.map((m) => `${m.clientId}@${m.clientHost} ${m.memberId}`),
    }));
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`consumer groups still have members after ${timeoutMs} ms: ${JSON.stringify(lingering)}`);
    if (Date.now() - t0 < 1_000)
      process.stderr.write(`broker reset: waiting for group members to expire: ${JSON.stringify(lingering)}\n`);
    await sleep(1_000);
  }
}
