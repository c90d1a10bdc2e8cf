/**
 * Real CrowdLens processes for end-to-end tests: `node dist/apps/embedded/src/main.js`
 * with a role, a config file and the Kafka/PostgreSQL environment, exactly as
 * an operator runs them. Each gets a free HTTP port; its logs go to a file
 * (path in failure messages) and a short tail kept in memory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, statSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './deploy-scripts';
import { listenOnce } from './kafka';
import { sleep, until } from './wait';

export type CrowdLensRole = 'ingest' | 'inference' | 'analytics' | 'embedded';

export const MAIN_JS = resolve(REPO_ROOT, 'dist/apps/embedded/src/main.js');

export interface CrowdLensProcessOptions {
  readonly role: CrowdLensRole;
  /** Shows in logs and failure messages, e.g. `inference-b`. */
  readonly name: string;
  readonly configPath: string;
  readonly dataDir: string;
  readonly logDir: string;
  readonly kafkaBrokers?: readonly string[];
  readonly postgresUrl?: string;
  /** HTTP port; default a free one, different at each start. */
  readonly port?: number;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const live = new Set<ChildProcess>();
// A test that fails half-way must not leave services behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class CrowdLensProcess {
  readonly url: string;
  readonly logFile: string;
  private readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private readonly log: WriteStream;
  readonly exited: Promise<ExitStatus>;

  private constructor(
    readonly options: CrowdLensProcessOptions,
    readonly port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.logFile = join(options.logDir, `${options.name}.log`);
    this.log = createWriteStream(this.logFile, { flags: 'a' });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CROWDLENS_ROLE: options.role,
      CROWDLENS_CONFIG: options.configPath,
      CROWDLENS_DATA_DIR: options.dataDir,
      PORT: String(port),
    };
    // Only what the role is given here; nothing leaks in from the test runner's environment.
    delete env.CROWDLENS_KAFKA_BROKERS;
    delete env.CROWDLENS_POSTGRES_URL;
    if (options.kafkaBrokers) env.CROWDLENS_KAFKA_BROKERS = options.kafkaBrokers.join(',');
    if (options.postgresUrl) env.CROWDLENS_POSTGRES_URL = options.postgresUrl;
    this.child = spawn(process.execPath, [MAIN_JS], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this.child);
    const sink = (chunk: Buffer) => {
      this.log.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        this.tail.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
        if (this.tail.length > 40) this.tail.shift();
      }
    };
    this.child.stdout!.on('data', sink);
    this.child.stderr!.on('data', sink);
    this.exited = new Promise((done) =>
      this.child.once('exit', (code, signal) => {
        live.delete(this.child);
        this.log.end();
        done({ code, signal });
      }),
    );
  }

  /**
   * Spawns the process and waits until its /ready says every component is up
   * (subscribed, joined). dist/ is shared with whoever builds on this machine:
   * a process that dies at start-up on a module missing mid-build is started
   * again once the build had time to finish.
   */
  static async start(options: CrowdLensProcessOptions, readyTimeoutMs = 120_000): Promise<CrowdLensProcess> {
    for (let attempt = 1; ; attempt++) {
      const port = options.port ?? (await listenOnce(0));
      const proc = new CrowdLensProcess(options, port);
      try {
        await proc.ready(readyTimeoutMs);
        return proc;
      } catch (err) {
        const halfBuilt = !proc.running && /MODULE_NOT_FOUND|Cannot find module/.test(proc.tail.join('\n'));
        if (!halfBuilt || attempt >= 3) throw err;
        process.stderr.write(`${options.name}: dist/ looked half-built (another build running?); retrying in 20 s\n`);
        await sleep(20_000);
      }
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async ready(timeoutMs: number): Promise<void> {
    let exit: ExitStatus | null = null;
    void this.exited.then((e) => (exit = e));
    try {
      await until(
        `${this.options.name} to be ready`,
        async () => {
          if (exit) return exit;
          const res = await fetch(`${this.url}/ready`).catch(() => null);
          return res?.status === 200 ? null : undefined;
        },
        timeoutMs,
        200,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.describe()}`);
    }
    if (exit)
      throw new Error(`${this.options.name} exited during start-up (${JSON.stringify(exit)})\n${this.describe()}`);
  }

  /** Prometheus text from /metrics, parsed: `value(name, labels)` (undefined when absent). */
  async metrics(): Promise<MetricsSnapshot> {
    const res = await fetch(`${this.url}/metrics`);
    if (res.status !== 200) throw new Error(`${this.options.name} /metrics: HTTP ${res.status}`);
    return new MetricsSnapshot(await res.text());
  }

  /** SIGTERM (graceful: stop intake, flush, commit) and wait for the exit. */
  async stop(timeoutMs = 60_000): Promise<ExitStatus> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL: no shutdown hooks, no commits, a crash. */
  async kill(): Promise<ExitStatus> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  describe(): string {
    return `[${this.options.name} pid ${this.pid}, log ${this.logFile}]\n  ${this.tail.slice(-15).join('\n  ')}`;
  }
}

export class MetricsSnapshot {
  private readonly samples = new Map<string, number>();

  constructor(text: string) {
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (m) this.samples.set(`${m[1]}${normaliseLabels(m[2] ?? '')}`, Number(m[3]));
    }
  }

  value(name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
    const text = Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    return this.samples.get(`${name}${normaliseLabels(text ? `{${text}}` : '')}`);
  }
}

function normaliseLabels(block: string): string {
  if (!block) return '';
  const pairs = block
    .slice(1, -1)
    .split(/,(?=[a-zA-Z_]+=)/)
    .filter(Boolean)
    .sort();
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

/**
 * The processes run the compiled build. `npm test` builds first; a direct
 * `vitest run` may find dist/ missing or older than the sources, in which
 * case it is rebuilt here (under a lock shared with other builds on the box).
 */
export function ensureBuilt(): void {
  const newest = (dir: string): number => {
    let max = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) max = Math.max(max, newest(path));
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
        max = Math.max(max, statSync(path).mtimeMs);
    }
    return max;
  };
  const sources = Math.max(newest(resolve(REPO_ROOT, 'apps')), newest(resolve(REPO_ROOT, 'libs')));
  if (existsSync(MAIN_JS) && statSync(MAIN_JS).mtimeMs >= sources) return;
  const build = spawnSync(
    'flock',
    ['/tmp/crowdlens-build.lock', 'sh', '-c', 'npx tsc -p tsconfig.build.json && npx tsc-alias -p tsconfig.build.json'],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 },
  );
  if (build.status !== 0)
    throw new Error(`building dist/ for the end-to-end tests failed:\n${build.stdout}\n${build.stderr}`);
}

/** Waits for the processes to exit, killing stragglers after `timeoutMs`. */
export async function stopAll(procs: Iterable<CrowdLensProcess>, timeoutMs = 30_000): Promise<void> {
  await Promise.all([...procs].map((p) => p.stop(timeoutMs).catch(() => p.kill())));
  await sleep(0);
}
