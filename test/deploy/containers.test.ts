/**
 * The images, built for real by deploy/docker/build.sh (Debian trixie rootfs
 * from mmdebstrap, the built app, production dependencies; Kafka on a JRE,
 * Debian's PostgreSQL) and run the way a user runs them:
 * - the app image alone, embedded: read-only root filesystem, the HEALTHCHECK
 *   turning healthy, the bundled sample counted, a non-root user, config from
 *   a mounted file, the StatefulSet shard taken from the pod name;
 * - the Compose distributed profile: Kafka, PostgreSQL, ingest, 2 inference,
 *   analytics, the sample played through it and counted at the analytics API,
 *   then torn down with its volumes.
 * Skipped, with the reason, only where Docker cannot be set up.
 */
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { report, until } from '../support/wait';
import { run, setupDocker } from './deploy-tools';

const IMAGE = 'crowdlens-test';
const TAG = `${IMAGE}:ci`;
const NAME = `crowdlens-test-embedded-${process.pid}`;
const PROJECT = `crowdlens-test-${process.pid}`;
const IMAGES = {
  CROWDLENS_IMAGE: TAG,
  CROWDLENS_KAFKA_IMAGE: `${IMAGE}-kafka:ci`,
  CROWDLENS_POSTGRES_IMAGE: `${IMAGE}-postgres:ci`,
};
let docker: ReturnType<typeof setupDocker> = { ok: false, reason: 'not checked yet' };
let base = '';

async function docker_(args: readonly string[], timeoutMs = 120_000) {
  return run('docker', args, { timeoutMs });
}

async function httpJson<T>(path: string, at = base): Promise<{ status: number; body: T }> {
  const res = await fetch(`${at}${path}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: (await res.json()) as T };
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function build(what: string): Promise<void> {
  const r = await run('bash', ['deploy/docker/build.sh', what], {
    timeoutMs: 1_500_000,
    env: { CROWDLENS_IMAGE: IMAGE, CROWDLENS_IMAGE_TAG: 'ci', CROWDLENS_SKIP_TSC: '1' },
  });
  if (r.code !== 0) throw new Error(`deploy/docker/build.sh ${what} failed:\n${r.stdout}\n${r.stderr}`);
  report(`image ${what}: built in ${(r.ms / 1000).toFixed(0)} s (${r.stdout.trim().split('\n').pop()})`);
}

// One build of the app image for both groups below (the rootfs tarball is cached between runs).
beforeAll(async () => {
  docker = setupDocker();
  if (!docker.ok) {
    process.stderr.write(`containers.test: skipped, Docker cannot run here: ${docker.reason}\n`);
    return;
  }
  // npm test built dist/ already; the rootfs tarballs are cached under .cache/docker between runs.
  await build('app');
}, 1_600_000);

describe('the app image (deploy/docker)', () => {
  afterAll(async () => {
    if (docker.ok) await docker_(['rm', '-f', '-v', NAME]);
  });

  it('runs embedded as a non-root user on a read-only root (SQLite on the /data volume), turns healthy, and counts the bundled sample', async (ctx) => {
    if (!docker.ok) return ctx.skip();
    const started = Date.now();
    const up = await docker_([
      'run',
      '-d',
      '--name',
      NAME,
      '--read-only',
      '--tmpfs',
      '/tmp',
      '-p',
      '127.0.0.1::3000',
      '--health-interval',
      '1s',
      TAG,
    ]);
    expect(up.code, up.stderr).toBe(0);
    const healthy = await until(
      'the container HEALTHCHECK to report healthy',
      async () => {
        const s = (await docker_(['inspect', '--format', '{{.State.Health.Status}}', NAME])).stdout.trim();
        if (s === 'unhealthy') throw new Error('unhealthy');
        return s === 'healthy' ? Date.now() - started : undefined;
      },
      180_000,
      500,
    );
    report(`app image: docker run to healthy in ${(healthy / 1000).toFixed(1)} s`);

    const port = (await docker_(['port', NAME, '3000/tcp'])).stdout.trim().split('\n')[0]!.split(':').pop();
    base = `http://127.0.0.1:${port}`;
    expect((await httpJson<{ status: string }>('/health')).body).toEqual({ status: 'ok' });
    await until(
      '/ready to answer 200',
      async () => ((await httpJson('/ready')).status === 200 ? true : undefined),
      120_000,
      1_000,
    );

    const uid = await docker_(['exec', NAME, 'id', '-u']);
    expect(uid.stdout.trim()).toBe('10001');
    const ffmpeg = await docker_(['exec', NAME, 'ffmpeg', '-hide_banner', '-version']);
    expect(ffmpeg.stdout).toMatch(/^ffmpeg version 7\./);

    // The demo camera (the sample video in the image) is streamed, detected, classified and stored in SQLite on /data.
    const totals = await until(
      'faces counted from the bundled sample',
      async () => {
        const { body } = await httpJson<{ totals: { faces: number | null; visitors: number | null } }>('/api/stats');
        return (body.totals.faces ?? 0) > 0 ? body.totals : undefined;
      },
      240_000,
      2_000,
    );
    expect(totals.faces).toBeGreaterThan(0);
    const db = await docker_(['exec', NAME, 'sh', '-c', 'ls /data']);
    expect(db.stdout).toContain('crowdlens.db');
  }, 600_000);

  it('reads a mounted config file and names the bad field when it is invalid', async (ctx) => {
    if (!docker.ok) return ctx.skip();
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-image-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'crowdlens.yaml'), 'cameras:\n  - id: door\n    url: rtsp://cam.local/s\n    fps: 99\n');
    chmodSync(join(dir, 'crowdlens.yaml'), 0o644);
    const r = await docker_(['run', '--rm', '-v', `${dir}:/etc/crowdlens:ro`, TAG], 120_000);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('cameras[0].fps');
  }, 300_000);

  it('derives the ingest shard from a StatefulSet pod name, and refuses a name without an ordinal', async (ctx) => {
    if (!docker.ok) return ctx.skip();
    const show = ['node', '-e', 'process.stdout.write(String(process.env.CROWDLENS_INGEST_SHARD))'];
    const ok = await docker_([
      'run',
      '--rm',
      '--hostname',
      'cl-crowdlens-ingest-2',
      '-e',
      'CROWDLENS_INGEST_REPLICAS=3',
      TAG,
      ...show,
    ]);
    expect(ok.stdout).toBe('2/3');
    const named = await docker_([
      'run',
      '--rm',
      '-e',
      'CROWDLENS_POD_NAME=cl-crowdlens-ingest-11',
      '-e',
      'CROWDLENS_INGEST_REPLICAS=12',
      TAG,
      ...show,
    ]);
    expect(named.stdout).toBe('11/12');
    const explicit = await docker_([
      'run',
      '--rm',
      '--hostname',
      'x-1',
      '-e',
      'CROWDLENS_INGEST_REPLICAS=3',
      '-e',
      'CROWDLENS_INGEST_SHARD=0/1',
      TAG,
      ...show,
    ]);
    expect(explicit.stdout).toBe('0/1');
    const bad = await docker_([
      'run',
      '--rm',
      '--hostname',
      'ingest',
      '-e',
      'CROWDLENS_INGEST_REPLICAS=3',
      TAG,
      ...show,
    ]);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('does not end in -<ordinal>');
  }, 300_000);
});

describe('the Compose distributed profile (deploy/compose)', () => {
  let secretsDir = '';
  let env: Record<string, string> = {};
  const compose = (args: readonly string[], timeoutMs = 300_000) =>
    run(
      'docker',
      ['compose', '-p', PROJECT, '-f', 'deploy/compose/compose.yaml', '--profile', 'distributed', ...args],
      {
        timeoutMs,
        env,
      },
    );

  beforeAll(async () => {
    if (!docker.ok) return;
    await build('kafka');
    await build('postgres');
    secretsDir = join(mkdtempSync(join(tmpdir(), 'crowdlens-stack-')), 'secrets');
    const made = await run('bash', ['deploy/compose/make-secrets.sh'], { env: { CROWDLENS_SECRETS_DIR: secretsDir } });
    if (made.code !== 0) throw new Error(made.stderr);
    env = { ...IMAGES, CROWDLENS_SECRETS_DIR: secretsDir, CROWDLENS_PORT: String(await freePort()) };
  }, 1_600_000);

  afterAll(async () => {
    if (docker.ok && secretsDir) await compose(['down', '-v', '--remove-orphans']);
  }, 300_000);

  it('plays the sample through Kafka, 2 inference replicas and PostgreSQL, and counts it at the analytics API', async (ctx) => {
    if (!docker.ok) return ctx.skip();
    const started = Date.now();
    // Not `up --wait`: that gives up on the first unhealthy moment, and a role that loses the race
    // for a topic another role is creating at the same instant exits once and is restarted by
    // the restart policy (counted below). The stack is judged by what it delivers.
    const up = await compose(['up', '-d'], 600_000);
    expect(up.code, `${up.stdout}\n${up.stderr}`).toBe(0);
    interface PsRow {
      Service: string;
      State: string;
      Health: string;
      Name: string;
    }
    const ps = async (): Promise<PsRow[]> =>
      (await compose(['ps', '--format', 'json'])).stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .flatMap((l) => (l.startsWith('[') ? (JSON.parse(l) as PsRow[]) : [JSON.parse(l) as PsRow]));
    const rows = await until(
      'all six containers running and healthy',
      async () => {
        const all = await ps();
        return all.length === 6 && all.every((r) => r.State === 'running' && r.Health === 'healthy') ? all : undefined;
      },
      600_000,
      3_000,
    );
    report(`compose distributed: up and healthy in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    expect(rows.filter((r) => r.Service === 'inference')).toHaveLength(2);
    expect(rows.map((r) => r.Service).sort()).toEqual([
      'analytics',
      'inference',
      'inference',
      'ingest',
      'kafka',
      'postgres',
    ]);

    const at = `http://127.0.0.1:${env.CROWDLENS_PORT}`;
    const totals = await until(
      'faces from the sample counted through the distributed stack',
      async () => {
        const { body } = await httpJson<{ totals: { faces: number | null } }>('/api/stats', at);
        return (body.totals.faces ?? 0) > 0 ? body.totals : undefined;
      },
      300_000,
      3_000,
    );
    expect(totals.faces).toBeGreaterThan(0);
    report(`compose distributed: first faces counted ${((Date.now() - started) / 1000).toFixed(0)} s after up`);
    const restarts = await Promise.all(
      rows.map(
        async (r) =>
          `${r.Service}=${(await docker_(['inspect', '--format', '{{.RestartCount}}', r.Name])).stdout.trim()}`,
      ),
    );
    report(`compose distributed: container restarts ${restarts.join(' ')}`);
    // The aggregates are in PostgreSQL, not a SQLite file in the analytics container.
    const migrations = await compose([
      'exec',
      '-T',
      'postgres',
      'psql',
      '-h',
      '/tmp',
      '-U',
      'crowdlens',
      '-d',
      'crowdlens',
      '-tAc',
      'SELECT count(*) FROM schema_migrations',
    ]);
    expect(Number(migrations.stdout.trim())).toBeGreaterThan(0);
  }, 1_200_000);
});
