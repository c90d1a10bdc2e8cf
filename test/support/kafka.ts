/**
 * A real Kafka broker for tests: fetched and started once (deploy/kafka), then
 * reused by every test file and run while its port answers. Topics are unique
 * per test and deleted afterwards, so a long-lived broker does not fill up.
 */
import { defineTopic, type Topic } from '@crowdlens/contracts';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { envPort, portAnswers, runDeployScript, uniqueName } from './deploy-scripts';

/** The shared test broker; CROWDLENS_TEST_KAFKA_PORT points tests elsewhere. */
export const TEST_KAFKA_PORT = envPort('CROWDLENS_TEST_KAFKA_PORT', 39092);

export interface KafkaInstance {
  readonly port: number;
  readonly brokers: string[];
  /** ms the start script took; 0 when an already running broker was reused. */
  readonly startMs: number;
}

let shared: Promise<KafkaInstance> | null = null;

export function ensureKafka(): Promise<KafkaInstance> {
  shared ??= startKafka(TEST_KAFKA_PORT);
  return shared;
}

/** Starts (or reuses) a broker on `port`; a dedicated port gives a test a broker it may stop. */
export async function startKafka(port: number): Promise<KafkaInstance> {
  const brokers = [`127.0.0.1:${port}`];
  if (await portAnswers(port)) return { port, brokers, startMs: 0 };
  const { stdout, ms } = await runDeployScript('kafka/start.sh', { KAFKA_PORT: String(port) });
  process.stderr.write(stdout);
  return { port, brokers, startMs: ms };
}

export async function stopKafka(port: number): Promise<number> {
  const { ms } = await runDeployScript('kafka/stop.sh', { KAFKA_PORT: String(port) });
  return ms;
}

/** A copy of a contract topic under a fresh wire name: same schema, key and content type. */
export function uniqueTopic<T extends Topic>(base: T, label: string): T {
  return defineTopic({ ...base, name: uniqueName(`test.${label}`) }) as T;
}

export function rawKafka(brokers: string[], clientId = 'crowdlens-test'): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 10 } });
}

/** Tracks topics a test file made and deletes them when it ends. */
export class TopicJanitor {
  private readonly names = new Set<string>();

  constructor(private readonly brokers: string[]) {}

  topic<T extends Topic>(base: T, label: string): T {
    const t = uniqueTopic(base, label);
    this.names.add(t.name);
    return t;
  }

  async cleanup(): Promise<void> {
    if (this.names.size === 0) return;
    const admin: Admin = rawKafka(this.brokers).admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const doomed = [...this.names].filter((n) => existing.has(n));
      if (doomed.length > 0) await admin.deleteTopics({ topics: doomed, timeout: 30_000 });
      this.names.clear();
    } finally {
      await admin.disconnect();
    }
  }
}
