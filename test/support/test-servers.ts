/**
 * Who stops the shared test servers (Kafka on 39092, PostgreSQL on 55432).
 * Test files start them on first use and reuse them across files; the vitest
 * run that ends last stops those a test run started, so the next user of
 * the port does not meet a server nobody remembers starting. A server that
 * was already running before any test started it (a developer's) carries no
 * mark and is never stopped.
 *
 * State is machine-wide (the ports are): one mark per started server, one
 * lease per running vitest process, under the OS temp directory.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export type ServerKind = 'kafka' | 'postgres';

interface Mark {
  readonly kind: ServerKind;
  readonly port: number;
  /** The checkout whose deploy scripts started it (and keep its pid and data). */
  readonly repo: string;
}

const STATE_DIR = process.env.CROWDLENS_TEST_SERVERS_DIR ?? join(tmpdir(), 'crowdlens-test-servers');
const MARKS = join(STATE_DIR, 'started');
const LEASES = join(STATE_DIR, 'runs');
const REPO_ROOT = resolve(__dirname, '../..');
const PORT_ENV: Record<ServerKind, string> = { kafka: 'KAFKA_PORT', postgres: 'POSTGRES_PORT' };

/** Called by the test that actually started a shared server (not when it reused one). */
export function markStartedByTests(kind: ServerKind, port: number): void {
  mkdirSync(MARKS, { recursive: true });
  const mark: Mark = { kind, port, repo: REPO_ROOT };
  writeFileSync(join(MARKS, `${kind}-${port}.json`), JSON.stringify(mark));
}

/** A vitest run holds a lease while it may use the servers. */
export function takeLease(pid = process.pid): void {
  mkdirSync(LEASES, { recursive: true });
  writeFileSync(join(LEASES, String(pid)), '');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function otherLiveRuns(pid: number): number[] {
  let names: string[] = [];
  try {
    names = readdirSync(LEASES);
  } catch {
    return [];
  }
  const others: number[] = [];
  for (const name of names) {
    const other = Number(name);
    if (!Number.isInteger(other) || other === pid) continue;
    if (alive(other)) others.push(other);
    // A run that crashed left its lease behind.
    else rmSync(join(LEASES, name), { force: true });
  }
  return others;
}

function runStopScript(mark: Mark): Promise<string> {
  return new Promise((done, fail) => {
    execFile(
      'bash',
      [join(mark.repo, 'deploy', mark.kind, 'stop.sh')],
      { cwd: mark.repo, env: { ...process.env, [PORT_ENV[mark.kind]]: String(mark.port) }, timeout: 120_000 },
      (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout.trim())),
    );
  });
}

/**
 * Gives up this run's lease; if no other test run is alive, stops every
 * server a test run started. Returns what it did, one line each.
 */
export async function releaseLease(pid = process.pid): Promise<string[]> {
  rmSync(join(LEASES, String(pid)), { force: true });
  let marks: string[] = [];
  try {
    marks = readdirSync(MARKS).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  if (marks.length === 0) return [];
  const others = otherLiveRuns(pid);
  if (others.length > 0) {
    return [`test servers left running for the test run(s) still going (pid ${others.join(', ')})`];
  }
  const lines: string[] = [];
  for (const name of marks) {
    const path = join(MARKS, name);
    let mark: Mark;
    try {
      mark = JSON.parse(readFileSync(path, 'utf8')) as Mark;
    } catch {
      rmSync(path, { force: true });
      continue;
    }
    try {
      lines.push(`${await runStopScript(mark)} (started by the tests)`);
      rmSync(path, { force: true });
    } catch (err) {
      lines.push(`could not stop the ${mark.kind} test server on port ${mark.port}: ${(err as Error).message}`);
    }
  }
  return lines;
}
