/**
 * Bus throughput, Kafka beside the in-memory bus in the same run:
 *
 * - face crops (binary, ~12 KB JPEG each) published and consumed with the
 *   inference subscription's handler concurrency and a no-op handler: the
 *   bus's own ceiling for crops;
 * - predictions (small JSON) with a no-op handler: the bus's ceiling for them;
 * - predictions through the analytics consumer path: the subscription with
 *   the analytics concurrency, a recorder that batches like analytics'
 *   PredictionRecorder (flush at 256 or after 100 ms, one transaction each,
 *   a message acknowledged only after its transaction committed) into the
 *   real SqlAggregateStore on SQLite and on PostgreSQL;
 * - the SQLite path again with concurrency 1, one message per partition at a
 *   time, for the difference the handler window makes.
 *
 * Every figure is end to end: from the first publish until the last handler
 * resolved. Printed as a table with the Kafka/in-memory ratio.
 *
 *   npm run build
 *   node dist/bench/kafka/bus-throughput.js [--port 9092] [--postgres-port 55432] [--crops 3000]
 *        [--predictions 20000] [--store-predictions 5000]
 *        [--serial-predictions 300] [--partitions 6]
 *
 * The broker and PostgreSQL are started with deploy/kafka/start.sh and
 * deploy/postgres/start.sh (reused when running); the bench makes its own
 * topics and databases and deletes them afterwards. The pipeline's real rate
 * is bounded by inference (~45 img/s for ResNet50 on 2 vCPU), far below the
 * crop figures.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import {
  FACE_CROPS_TOPIC,
  GENDER_PREDICTIONS_TOPIC,
  defineTopic,
  type FaceCrop,
  type GenderPrediction,
  type Topic,
  type TopicValue,
} from '@crowdlens/contracts';
import { InMemoryBus, KafkaBus, type MessageBus, type MessageHandler } from '@crowdlens/bus';
import { createAggregateStore, type AggregateStore } from '@crowdlens/storage';
import { parseConfig } from '@crowdlens/config';
import { SYSTEM_CLOCK } from '@crowdlens/runtime';
import { storeOptions } from '../../apps/analytics/src/services/track-vote';
import { PredictionRecorder } from '../../apps/analytics/src/services/prediction-recorder.service';
import pino from 'pino';
import { Registry } from 'prom-client';

/** A benchmark's output is its product: plain lines on stdout. */
const report = (line: string): void => void process.stdout.write(`${line}\n`);

/** What the apps subscribe with (apps/inference InferenceService with default batcher config, apps/analytics PredictionRecorder). */
const INFERENCE_CONCURRENCY = 32;
const ANALYTICS_CONCURRENCY = 256;

interface Args {
  port: number;
  'postgres-port': number;
  crops: number;
  predictions: number;
  'store-predictions': number;
  'serial-predictions': number;
  partitions: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    port: 9092,
    'postgres-port': 55432,
    crops: 3_000,
    predictions: 20_000,
    'store-predictions': 5_000,
    'serial-predictions': 300,
    partitions: 6,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '') as keyof Args | undefined;
    const value = Number(argv[i + 1]);
    if (!name || !(name in args) || !Number.isInteger(value) || value <= 0) {
      throw new Error(
        `usage: bus-throughput ${Object.keys(args)
          .map((k) => `[--${k} N]`)
          .join(' ')} (bad: ${argv[i]})`,
      );
    }
    args[name] = value;
  }
  return args;
}

function crop(i: number, jpeg: FaceCrop['jpeg']): FaceCrop {
  return {
    schemaVersion: 1,
    cropId: `crop-${i}`,
    cameraId: `cam-${i % 8}`,
    trackId: `t-${i % 50}`,
    frameTs: 1_700_000_000_000 + i,
    box: { x: 100, y: 80, width: 120, height: 140 },
    detectionScore: 0.93,
    quality: 0.81,
    width: 224,
    height: 224,
    jpeg,
  };
}

function prediction(i: number): GenderPrediction {
  return {
    schemaVersion: 1,
    predictionId: `crop-${i}`,
    cameraId: `cam-${i % 8}`,
    // ~3 crops per person, as ingest sends (tracker.cropsPerTrack): the store updates tracks as well as buckets.
    trackId: `t-${Math.floor(i / 3)}`,
    // 0.2 s apart: the run spans minutes, so minute buckets roll over as in a live stream.
    frameTs: 1_700_000_000_000 + i * 200,
    probMale: (i % 100) / 100,
    label: i % 100 >= 50 ? 'male' : 'female',
    quality: 0.81,
    model: { name: 'resnet50-celeba', version: '1' },
    inferenceMs: 21.5,
  };
}

/**
 * The analytics consumer's own PredictionRecorder, handed messages by the
 * bench's subscription: it subscribes to the fixed contract topic itself,
 * which cannot be pointed at a bench topic, so only `record` is used.
 */
function recorderFor(bus: MessageBus, store: AggregateStore): MessageHandler<GenderPrediction> {
  const recorder = new PredictionRecorder(
    bus,
    store,
    pino({ level: 'silent' }),
    new Registry(),
    parseConfig({ role: 'analytics' }),
    SYSTEM_CLOCK,
  );
  return (p) => recorder.record(p);
}

interface Result {
  readonly messages: number;
  readonly seconds: number;
  readonly bytes: number;
}

interface Stream<T extends Topic> {
  readonly topic: T;
  readonly group: string;
  readonly count: number;
  readonly make: (i: number) => TopicValue<T>;
  readonly bytesEach: number;
  readonly concurrency: number;
  /** The consumer's work; a no-op when absent. */
  readonly handler?: MessageHandler<TopicValue<T>>;
}

/** Publishes `count` messages (up to `window` outstanding, as several producers would) and waits until all are handled. */
async function pump<T extends Topic>(bus: MessageBus, stream: Stream<T>, window = 1_000): Promise<Result> {
  const { topic, group, count, make, bytesEach, concurrency, handler } = stream;
  let handled = 0;
  let allHandled!: () => void;
  const done = new Promise<void>((r) => (allHandled = r));
  const subscription = await bus.subscribe(topic, { group, concurrency }, async (value, meta) => {
    if (handler) await handler(value, meta);
    if (++handled === count) allHandled();
  });
  const started = process.hrtime.bigint();
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < count; i++) {
    const p: Promise<void> = bus.publish(topic, make(i)).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const timeout = setTimeout(() => {
    process.stderr.write(`bench: only ${handled}/${count} of ${topic.name} handled after 300 s\n`);
    process.exit(1);
  }, 300_000);
  await done;
  clearTimeout(timeout);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await subscription.close();
  return { messages: count, seconds, bytes: count * bytesEach };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const repo = repoRoot();
  const startScript = (script: string, env: Record<string, string>) =>
    process.stdout.write(
      execFileSync('bash', [resolve(repo, 'deploy', script)], { env: { ...process.env, ...env }, encoding: 'utf8' }),
    );
  startScript('kafka/start.sh', { KAFKA_PORT: String(args.port) });
  startScript('postgres/start.sh', { POSTGRES_PORT: String(args['postgres-port']) });
  const pgAdminUrl = `postgres://postgres@127.0.0.1:${args['postgres-port']}/crowdlens`;

  // A plausible 224x224 face JPEG is 8-16 KB; its content does not matter to the bus.
  const jpeg = new Uint8Array(12_288);
  for (let i = 0; i < jpeg.length; i++) jpeg[i] = (i * 2_654_435_761) >>> 24;
  const predictionBytes = Buffer.byteLength(JSON.stringify(prediction(0)));
  const run = Date.now().toString(36);
  const topicNames: string[] = [];
  const topic = <T extends Topic>(base: T, label: string): T => {
    const t = defineTopic({ ...base, name: `bench.${label}.${run}` }) as T;
    topicNames.push(t.name);
    return t;
  };
  const topics = {
    crops: topic(FACE_CROPS_TOPIC, 'crops'),
    predictions: topic(GENDER_PREDICTIONS_TOPIC, 'predictions'),
    sqlite: topic(GENDER_PREDICTIONS_TOPIC, 'predictions-sqlite'),
    postgres: topic(GENDER_PREDICTIONS_TOPIC, 'predictions-postgres'),
    serial: topic(GENDER_PREDICTIONS_TOPIC, 'predictions-serial'),
  };
  const scratch = mkdtempSync(join(tmpdir(), 'crowdlens-bench-'));
  const databases: string[] = [];

  /** A fresh store per measurement, so both buses start from empty tables. */
  const freshStore = async (kind: 'sqlite' | 'postgres', label: string): Promise<AggregateStore> => {
    // The analytics app's own vote rule and lateness, from the default config.
    const options = storeOptions(parseConfig({}));
    if (kind === 'sqlite') return createAggregateStore({ type: 'sqlite', path: join(scratch, `${label}.db`) }, options);
    const name = `bench_${run}_${label}`.replace(/[^a-z0-9_]/g, '_');
    await withPg(pgAdminUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
    databases.push(name);
    return createAggregateStore(
      { type: 'postgres', url: `postgres://postgres@127.0.0.1:${args['postgres-port']}/${name}` },
      options,
    );
  };

  const measure = async (label: string, bus: MessageBus) => {
    const crops = await pump(bus, {
      topic: topics.crops,
      group: `bench-crops-${label}`,
      count: args.crops,
      make: (i) => crop(i, jpeg),
      bytesEach: jpeg.byteLength,
      concurrency: INFERENCE_CONCURRENCY,
    });
    const predictions = await pump(bus, {
      topic: topics.predictions,
      group: `bench-predictions-${label}`,
      count: args.predictions,
      make: prediction,
      bytesEach: predictionBytes,
      concurrency: ANALYTICS_CONCURRENCY,
    });
    const stored: Record<'sqlite' | 'postgres', Result> = {} as Record<'sqlite' | 'postgres', Result>;
    for (const kind of ['sqlite', 'postgres'] as const) {
      const store = await freshStore(kind, `${label}_${kind}`);
      stored[kind] = await pump(bus, {
        topic: topics[kind],
        group: `bench-analytics-${label}`,
        count: args['store-predictions'],
        make: prediction,
        bytesEach: predictionBytes,
        concurrency: ANALYTICS_CONCURRENCY,
        handler: recorderFor(bus, store),
      });
      await store.close();
    }
    // The same path one message at a time per partition (concurrency 1) — what KafkaBus did before
    // it honoured `concurrency`: every message waits out the recorder's 100 ms flush alone.
    const serialStore = await freshStore('sqlite', `${label}_serial`);
    const serial = await pump(bus, {
      topic: topics.serial,
      group: `bench-analytics-serial-${label}`,
      count: args['serial-predictions'],
      make: prediction,
      bytesEach: predictionBytes,
      concurrency: 1,
      handler: recorderFor(bus, serialStore),
    });
    await serialStore.close();
    await bus.close();
    return { crops, predictions, sqlite: stored.sqlite, postgres: stored.postgres, serial };
  };

  try {
    const memory = await measure(
      'memory',
      new InMemoryBus({ queueCapacity: Math.max(args.crops, args.predictions, args['store-predictions']) }),
    );
    const kafka = await measure(
      'kafka',
      new KafkaBus({
        brokers: [`127.0.0.1:${args.port}`],
        clientId: 'bench',
        partitions: args.partitions,
        cropRetentionMs: 60_000,
        retentionMs: 3_600_000,
      }),
    );

    const rate = (r: Result) => r.messages / r.seconds;
    const mbps = (r: Result) => r.bytes / r.seconds / 1e6;
    const labels: Record<keyof typeof kafka, string> = {
      crops: `face crops (${(jpeg.byteLength / 1024).toFixed(0)} KB), no-op handler, concurrency ${INFERENCE_CONCURRENCY}`,
      predictions: `predictions (${predictionBytes} B), no-op handler, concurrency ${ANALYTICS_CONCURRENCY}`,
      sqlite: 'predictions -> analytics recorder -> SQLite store',
      postgres: 'predictions -> analytics recorder -> PostgreSQL store',
      serial: 'same -> SQLite, concurrency 1 (no window)',
    };
    const rows = [
      ['stream', 'messages', 'in-memory msg/s', 'kafka msg/s', 'kafka MB/s', 'kafka / in-memory'],
      ...(Object.keys(labels) as Array<keyof typeof kafka>).map((k) => [
        labels[k],
        String(memory[k].messages),
        rate(memory[k]).toFixed(0),
        rate(kafka[k]).toFixed(0),
        mbps(kafka[k]).toFixed(2),
        `${(rate(kafka[k]) / rate(memory[k])).toFixed(3)}x`,
      ]),
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(widths[c]!)).join(' | ')} |`;
    report(
      `\nbus throughput, end to end (first publish -> last handler resolved), Kafka ${args.partitions} partitions, ` +
        `broker 127.0.0.1:${args.port}, PostgreSQL 127.0.0.1:${args['postgres-port']}`,
    );
    report(line(rows[0]!));
    report(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const r of rows.slice(1)) report(line(r));
  } finally {
    const admin = new Kafka({
      clientId: 'bench-cleanup',
      brokers: [`127.0.0.1:${args.port}`],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    await admin.deleteTopics({ topics: topicNames.filter((n) => existing.has(n)) });
    await admin.disconnect();
    for (const name of databases) {
      await withPg(pgAdminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    }
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function withPg<T>(url: string, work: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Works from the source (bench/kafka) and from the build (dist/bench/kafka). */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(resolve(dir, 'deploy/kafka/start.sh'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('bench: cannot find the repository root (deploy/kafka/start.sh)');
    dir = up;
  }
  return dir;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
