/**
 * Bus throughput: face crops (binary, ~12 KB JPEG each) and predictions (small
 * JSON) pushed end to end — publish, broker, consumer group, handler — through
 * KafkaBus against a real local broker and through InMemoryBus in the same
 * run, printed as a table with the Kafka/in-memory ratio.
 *
 *   npx tsc -p tsconfig.build.json && npx tsc-alias -p tsconfig.build.json
 *   node dist/bench/kafka/bus-throughput.js [--port 9092] [--crops 3000] [--predictions 20000] [--partitions 6]
 *
 * The broker is started with deploy/kafka/start.sh (reused when running).
 * Messages per second here are the bus's own ceiling on this machine, with
 * no-op handlers: the pipeline's real rate is bounded by inference (~45 img/s
 * for ResNet50 on 2 vCPU), far below either figure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  FACE_CROPS_TOPIC,
  GENDER_PREDICTIONS_TOPIC,
  defineTopic,
  type FaceCrop,
  type GenderPrediction,
  type Topic,
  type TopicValue,
} from '@crowdlens/contracts';
import { InMemoryBus, KafkaBus, type MessageBus } from '@crowdlens/bus';

/** A benchmark's output is its product: plain lines on stdout. */
const report = (line: string): void => void process.stdout.write(`${line}\n`);

interface Args {
  port: number;
  crops: number;
  predictions: number;
  partitions: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { port: 9092, crops: 3_000, predictions: 20_000, partitions: 6 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '') as keyof Args | undefined;
    const value = Number(argv[i + 1]);
    if (!name || !(name in args) || !Number.isInteger(value) || value <= 0) {
      throw new Error(
        `usage: bus-throughput [--port N] [--crops N] [--predictions N] [--partitions N] (bad: ${argv[i]})`,
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
    trackId: `t-${i % 50}`,
    frameTs: 1_700_000_000_000 + i,
    probMale: (i % 100) / 100,
    label: i % 100 >= 50 ? 'male' : 'female',
    quality: 0.81,
    model: { name: 'resnet50-celeba', version: '1' },
    inferenceMs: 21.5,
  };
}

interface Result {
  readonly messages: number;
  readonly seconds: number;
  readonly bytes: number;
}

/** Publishes `count` messages (up to `window` outstanding, as several producers would) and waits until all are handled. */
async function pump<T extends Topic>(
  bus: MessageBus,
  topic: T,
  count: number,
  make: (i: number) => TopicValue<T>,
  bytesEach: number,
  window = 1_000,
): Promise<Result> {
  let handled = 0;
  let allHandled!: () => void;
  const done = new Promise<void>((r) => (allHandled = r));
  await bus.subscribe(topic, { group: `bench-${topic.name}` }, async () => {
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
    process.stderr.write(`bench: only ${handled}/${count} handled after 120 s\n`);
    process.exit(1);
  }, 120_000);
  await done;
  clearTimeout(timeout);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { messages: count, seconds, bytes: count * bytesEach };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const repo = repoRoot();
  const startOut = execFileSync('bash', [resolve(repo, 'deploy/kafka/start.sh')], {
    env: { ...process.env, KAFKA_PORT: String(args.port) },
    encoding: 'utf8',
  });
  process.stdout.write(startOut);

  // A plausible 224x224 face JPEG is 8-16 KB; its content does not matter to the bus.
  const jpeg = new Uint8Array(12_288);
  for (let i = 0; i < jpeg.length; i++) jpeg[i] = (i * 2_654_435_761) >>> 24;
  const predictionBytes = Buffer.byteLength(JSON.stringify(prediction(0)));
  const run = Date.now().toString(36);
  const topics = {
    crops: defineTopic({ ...FACE_CROPS_TOPIC, name: `bench.crops.${run}` }),
    predictions: defineTopic({ ...GENDER_PREDICTIONS_TOPIC, name: `bench.predictions.${run}` }),
  };

  const measure = async (bus: MessageBus) => {
    const crops = await pump(bus, topics.crops, args.crops, (i) => crop(i, jpeg), jpeg.byteLength);
    const predictions = await pump(bus, topics.predictions, args.predictions, prediction, predictionBytes);
    await bus.close();
    return { crops, predictions };
  };

  const memory = await measure(new InMemoryBus({ queueCapacity: Math.max(args.crops, args.predictions) }));
  const kafka = await measure(
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
  const rows = [
    ['stream', 'messages', 'in-memory msg/s', 'kafka msg/s', 'kafka MB/s', 'kafka / in-memory'],
    ...(['crops', 'predictions'] as const).map((k) => [
      k === 'crops' ? `face crops (${(jpeg.byteLength / 1024).toFixed(0)} KB)` : `predictions (${predictionBytes} B)`,
      String(memory[k].messages),
      rate(memory[k]).toFixed(0),
      rate(kafka[k]).toFixed(0),
      mbps(kafka[k]).toFixed(1),
      `${(rate(kafka[k]) / rate(memory[k])).toFixed(3)}x`,
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(widths[c]!)).join(' | ')} |`;
  report(
    `\nbus throughput, end to end (publish -> consume), Kafka ${args.partitions} partitions, broker 127.0.0.1:${args.port}`,
  );
  report(line(rows[0]!));
  report(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows.slice(1)) report(line(r));

  const admin = new Kafka({
    clientId: 'bench-cleanup',
    brokers: [`127.0.0.1:${args.port}`],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topics.crops.name, topics.predictions.name] });
  await admin.disconnect();
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
