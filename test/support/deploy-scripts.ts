/**
 * Test-side access to the deploy/ scripts: run one, and probe a port. Tests
 * start real services through the same scripts a developer uses, so the
 * scripts are exercised by every test run.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../..');

export interface ScriptResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export function runDeployScript(
  script: string,
  env: Readonly<Record<string, string>> = {},
  timeoutMs = 600_000,
): Promise<ScriptResult> {
  const started = Date.now();
  return new Promise((done, fail) => {
    execFile(
      'bash',
      [resolve(REPO_ROOT, 'deploy', script)],
      { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          fail(new Error(`deploy/${script} failed: ${error.message}\n${stdout}\n${stderr}`));
          return;
        }
        done({ stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portAnswers(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** Names that cannot collide across tests, files or runs. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  const port = raw ? Number(raw) : fallback;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`${name}=${raw} is not a port`);
  return port;
}
