import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

// The state lives in a directory of this test's own, not the machine-wide one real runs share.
const state = mkdtempSync(join(tmpdir(), 'crowdlens-test-servers-spec-'));
vi.stubEnv('CROWDLENS_TEST_SERVERS_DIR', state);
// Imported after the environment is set: the module reads its state directory once.
const servers = (): Promise<typeof import('./test-servers')> => import('./test-servers');

/** A checkout whose deploy/<kind>/stop.sh only records that it ran, with which port. */
function fakeRepo(): { repo: string; stopped: () => string[] } {
  const repo = mkdtempSync(join(tmpdir(), 'crowdlens-fake-repo-'));
  for (const kind of ['kafka', 'postgres']) {
    mkdirSync(join(repo, 'deploy', kind), { recursive: true });
    const script = join(repo, 'deploy', kind, 'stop.sh');
    writeFileSync(
      script,
      `#!/usr/bin/env bash\ntouch "${repo}/stopped-${kind}-\${KAFKA_PORT:-$POSTGRES_PORT}"\necho "${kind}: stopped"\n`,
    );
    chmodSync(script, 0o755);
  }
  return {
    repo,
    stopped: () =>
      readdirSync(repo)
        .filter((n) => n.startsWith('stopped-'))
        .sort(),
  };
}

function mark(repo: string, kind: string, port: number): void {
  mkdirSync(join(state, 'started'), { recursive: true });
  writeFileSync(join(state, 'started', `${kind}-${port}.json`), JSON.stringify({ kind, port, repo }));
}

afterAll(() => rmSync(state, { recursive: true, force: true }));

describe('shared test servers', () => {
  it('the last run to end stops what test runs started; never while another run is alive', async () => {
    const { releaseLease, takeLease } = await servers();
    const { repo, stopped } = fakeRepo();
    mark(repo, 'kafka', 39092);
    mark(repo, 'postgres', 55432);
    // Another vitest run, still going.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      takeLease(other.pid!);
      takeLease(4242424); // a run that crashed: its lease is ignored and cleared
      takeLease();
      expect(await releaseLease()).toEqual([
        `test servers left running for the test run(s) still going (pid ${other.pid})`,
      ]);
      expect(stopped()).toEqual([]);
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
    takeLease();
    const lines = await releaseLease();
    expect(lines.sort()).toEqual(['kafka: stopped (started by the tests)', 'postgres: stopped (started by the tests)']);
    expect(stopped()).toEqual(['stopped-kafka-39092', 'stopped-postgres-55432']);
    // Marks are gone: the next run stops nothing (a server it did not start is never stopped).
    takeLease();
    expect(await releaseLease()).toEqual([]);
    expect(existsSync(join(state, 'runs', String(process.pid)))).toBe(false);
  });
});
