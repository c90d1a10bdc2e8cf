/**
 * A real Kafka broker for tests: fetched and started once (deploy/kafka), then
 * reused by every test file and run while its port answers. Topics are unique
 * per test and deleted afterwards, so a long-lived broker does not fill up.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defineTopic, type Topic } from '@crowdlens/contracts';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { REPO_ROOT, envPort, portAnswers, runDeployScript, uniqueName } from './deploy-scripts';
import { markStartedByTests } from './test-servers';

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
  shared ??= startKafka(TEST_KAFKA_PORT).then((kafka) => {
    if (kafka.startMs > 0) markStartedByTests('kafka', kafka.port);
    else process.stderr.write(`kafka: reusing the broker already answering on 127.0.0.1:${kafka.port}\n`);
    return kafka;
  });
  return shared;
}

/** Starts (or reuses) a broker on `port`; a dedicated port gives a test a broker it may stop. */
export async function startKafka(port: number, env: Readonly<Record<string, string>> = {}): Promise<KafkaInstance> {
  const brokers = [`127.0.0.1:${port}`];
  if (await portAnswers(port)) return { port, brokers, startMs: 0 };
  const { stdout, ms } = await runDeployScript('kafka/start.sh', { KAFKA_PORT: String(port), ...env });
  process.stderr.write(stdout);
  return { port, brokers, startMs: ms };
}

export async function stopKafka(port: number, env: Readonly<Record<string, string>> = {}): Promise<number> {
  const { ms } = await runDeployScript('kafka/stop.sh', { KAFKA_PORT: String(port), ...env });
  return ms;
}

/**
 * A broker of the test's own: free ports picked at run time and a fresh data
 * directory, so a suite whose topic names are fixed (the apps' contract
 * topics) shares nothing with other suites, other runs or other checkouts,
 * and may stop and restart it at will.
 */
export class DedicatedKafka implements KafkaInstance {
  private destroyed = false;

  private constructor(
    readonly port: number,
    readonly brokers: string[],
    readonly startMs: number,
    private readonly dataDir: string,
  ) {
    // A run that ends without destroy() (a crash, a timeout) must not leave a broker behind on a random port.
    process.once('exit', () => {
      if (this.destroyed) return;
      try {
        process.kill(Number(readFileSync(join(kafkaHome(), 'run', String(port), 'kafka.pid'), 'utf8')), 'SIGTERM');
      } catch {
        // Not running.
      }
    });
  }

  static async start(label: string): Promise<DedicatedKafka> {
    const port = await freePortPair();
    const dataDir = mkdtempSync(join(tmpdir(), `crowdlens-kafka-${label}-`));
    const started = await startKafka(port, { KAFKA_DATA_DIR: dataDir });
    return new DedicatedKafka(port, started.brokers, started.startMs, dataDir);
  }

  /** Controlled shutdown (SIGTERM) then a start on the same port and data: every acknowledged message survives. */
  async restart(downMs = 0): Promise<{ stopMs: number; startMs: number }> {
    const stopMs = await stopKafka(this.port, { KAFKA_DATA_DIR: this.dataDir });
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    const { startMs } = await startKafka(this.port, { KAFKA_DATA_DIR: this.dataDir });
    return { stopMs, startMs };
  }

  /** Stops the broker and deletes its data and run directories. */
  async destroy(): Promise<void> {
    await stopKafka(this.port, { KAFKA_DATA_DIR: this.dataDir }).catch(() => undefined);
    this.destroyed = true;
    rmSync(this.dataDir, { recursive: true, force: true });
    rmSync(join(kafkaHome(), 'run', String(this.port)), { recursive: true, force: true });
  }
}

/** Where deploy/kafka keeps jars and per-port state (its KAFKA_HOME default). */
export function kafkaHome(): string {
  return process.env.KAFKA_HOME ?? resolve(REPO_ROOT, '.cache/kafka');
}

/** A free port whose successor (the KRaft controller's) is free too. */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(0);
    if (
      port < 65535 &&
      (await listenOnce(port + 1).then(
        () => true,
        () => false,
      ))
    ) {
      return port;
    }
  }
  throw new Error('no free port pair for a Kafka broker');
}

/** Binds 127.0.0.1:port (0 = any), closes again, returns the port. */
export function listenOnce(port: number): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => done(bound));
    });
  });
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
