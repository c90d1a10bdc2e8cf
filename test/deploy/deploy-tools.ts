/**
 * The tools the deployment tests drive, installed by the project's own
 * scripts (scripts/fetch-helm.sh: Helm from the Go module proxy;
 * scripts/setup-docker.sh: Docker, mmdebstrap and Compose v2 from Debian).
 */
import { execFile, execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { REPO_ROOT } from '../support/deploy-scripts';

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a command to its end; never throws on a non-zero exit (the caller asserts on it). */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Run> {
  const started = Date.now();
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...opts.env },
        timeout: opts.timeoutMs ?? 600_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/** The helm binary scripts/fetch-helm.sh builds (cached in .cache/helm after the first run). */
export function fetchHelm(): string {
  const out = execFileSync('bash', [resolve(REPO_ROOT, 'scripts/fetch-helm.sh')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 1_500_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop()!;
}

/** Docker engine + Compose v2 ready, or why not (the tests that need it skip with that reason). */
export function setupDocker(): { ok: true } | { ok: false; reason: string } {
  try {
    execFileSync('bash', [resolve(REPO_ROOT, 'scripts/setup-docker.sh')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 600_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { ok: true };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { ok: false, reason: (e.stderr || e.message).trim().split('\n').slice(-3).join(' ') };
  }
}
