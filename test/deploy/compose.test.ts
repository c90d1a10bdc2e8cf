/**
 * deploy/compose/compose.yaml as Compose v2 itself reads it (`docker compose
 * config`, the plugin from scripts/setup-docker.sh), for both profiles, and
 * the distributed profile's config + the secrets make-secrets.sh writes are a
 * config every role accepts. (The stack running for real: compose-stack.test.ts.)
 */
import { accessSync, constants, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@crowdlens/config';
import { REPO_ROOT } from '../support/deploy-scripts';
import { run, setupDocker } from './deploy-tools';

const COMPOSE = 'deploy/compose/compose.yaml';

interface ComposeService {
  image: string;
  restart?: string;
  environment?: Record<string, string>;
  ports?: Array<{ host_ip?: string; target: number; published: string }>;
  volumes?: Array<{ type: string; source: string; target: string }>;
  secrets?: Array<{ source: string; target: string }>;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
}
interface ComposeModel {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file: string }>;
}

let composeReady: { ok: true } | { ok: false; reason: string } = { ok: false, reason: 'not checked' };
let secretsDir = '';

async function config(profile: string): Promise<ComposeModel> {
  const r = await run('docker', ['compose', '-f', COMPOSE, '--profile', profile, 'config', '--format', 'json'], {
    env: { CROWDLENS_SECRETS_DIR: secretsDir },
  });
  if (r.code !== 0) throw new Error(`docker compose config failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ComposeModel;
}

describe('Docker Compose (deploy/compose)', () => {
  beforeAll(async () => {
    const setup = setupDocker();
    // `compose config` needs the CLI and its plugin, not a running daemon.
    const version = await run('docker', ['compose', 'version']);
    composeReady = version.code === 0 ? { ok: true } : setup.ok ? { ok: false, reason: version.stderr } : setup;
    if (!composeReady.ok) process.stderr.write(`compose.test: skipped, no Compose v2: ${composeReady.reason}\n`);
    secretsDir = join(mkdtempSync(join(tmpdir(), 'crowdlens-compose-')), 'secrets');
    const made = await run('bash', ['deploy/compose/make-secrets.sh'], { env: { CROWDLENS_SECRETS_DIR: secretsDir } });
    expect(made.code, made.stderr).toBe(0);
  }, 900_000);

  it('make-secrets.sh writes a private folder once, and never overwrites it', async () => {
    expect(statSync(secretsDir).mode & 0o777).toBe(0o700);
    const before = readFileSync(join(secretsDir, 'postgres-password'), 'utf8');
    expect(before).toMatch(/^[A-Za-z0-9]{32}$/);
    const again = await run('bash', ['deploy/compose/make-secrets.sh'], { env: { CROWDLENS_SECRETS_DIR: secretsDir } });
    expect(again.stdout).toContain('already holds the secrets');
    expect(readFileSync(join(secretsDir, 'postgres-password'), 'utf8')).toBe(before);
  });

  it('embedded profile: one container, SQLite on a named volume, published on this host only, restarted', async (ctx) => {
    if (!composeReady.ok) return ctx.skip();
    const model = await config('embedded');
    expect(Object.keys(model.services)).toEqual(['embedded']);
    const app = model.services.embedded!;
    expect(app.environment).toMatchObject({ CROWDLENS_ROLE: 'embedded' });
    expect(app.restart).toBe('unless-stopped');
    expect(app.volumes).toContainEqual(
      expect.objectContaining({ type: 'volume', source: 'crowdlens-data', target: '/data' }),
    );
    expect(app.ports).toEqual([expect.objectContaining({ host_ip: '127.0.0.1', target: 3000, published: '3000' })]);
  });

  it('distributed profile: Kafka, PostgreSQL, ingest, 2 inference, analytics, with secrets and health-gated starts', async (ctx) => {
    if (!composeReady.ok) return ctx.skip();
    const model = await config('distributed');
    expect(Object.keys(model.services).sort()).toEqual(['analytics', 'inference', 'ingest', 'kafka', 'postgres']);
    for (const [name, svc] of Object.entries(model.services)) expect(svc.restart, name).toBe('unless-stopped');
    expect(model.services.inference!.deploy?.replicas).toBe(2);
    for (const role of ['ingest', 'inference', 'analytics']) {
      const svc = model.services[role]!;
      expect(svc.environment).toMatchObject({
        CROWDLENS_ROLE: role,
        CROWDLENS_SECRETS_FILE: '/run/secrets/crowdlens-secrets',
      });
      expect(svc.secrets?.map((s) => s.source)).toEqual(['crowdlens-secrets']);
      expect(svc.depends_on?.kafka?.condition).toBe('service_healthy');
    }
    expect(model.services.analytics!.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(model.services.postgres!.secrets?.map((s) => s.source)).toEqual(['postgres-password']);
    expect(model.secrets?.['postgres-password']?.file).toBe(join(secretsDir, 'postgres-password'));
    // Only analytics publishes a port, and only on this host.
    const published = Object.entries(model.services)
      .filter(([, s]) => s.ports?.length)
      .map(([n]) => n);
    expect(published).toEqual(['analytics']);
    expect(model.services.analytics!.ports![0]!.host_ip).toBe('127.0.0.1');
  });

  it('the distributed config with the generated secrets is a config every role accepts', () => {
    for (const role of ['ingest', 'inference', 'analytics']) {
      const cfg = loadConfig({
        CROWDLENS_CONFIG: join(REPO_ROOT, 'deploy/compose/config/distributed.yaml'),
        CROWDLENS_SECRETS_FILE: join(secretsDir, 'crowdlens-secrets.yaml'),
        CROWDLENS_ROLE: role,
        CROWDLENS_HTTP_HOST: '0.0.0.0',
      });
      const password = readFileSync(join(secretsDir, 'postgres-password'), 'utf8');
      expect(cfg.bus).toMatchObject({ type: 'kafka', brokers: ['kafka:9092'] });
      expect(cfg.store).toEqual({ type: 'postgres', url: `postgres://crowdlens:${password}@postgres:5432/crowdlens` });
      expect(cfg.auth.tokenSecret).toMatch(/^[A-Za-z0-9]{43}$/);
    }
    const embedded = loadConfig({
      CROWDLENS_CONFIG: join(REPO_ROOT, 'deploy/compose/config/embedded.yaml'),
      CROWDLENS_HTTP_HOST: '0.0.0.0',
    });
    expect(embedded.role).toBe('embedded');
  });
});

describe('the deployment commands in README.md and docs/deployment.md', () => {
  const docs = ['README.md', 'docs/deployment.md'].map((f) => readFileSync(join(REPO_ROOT, f), 'utf8')).join('\n');
  const lines = [...docs.matchAll(/```bash\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1]!.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => /deploy\/(docker|compose|helm)|scripts\/(setup-docker|fetch-helm)/.test(l));

  it('name scripts that exist and run, and compose profiles and files that exist', () => {
    expect(lines.length).toBeGreaterThan(4);
    const compose = readFileSync(join(REPO_ROOT, COMPOSE), 'utf8');
    for (const line of lines) {
      for (const script of line.match(/(?:deploy|scripts)\/[\w/.-]+\.sh/g) ?? []) {
        accessSync(join(REPO_ROOT, script), constants.X_OK);
      }
      for (const [, file] of line.matchAll(/ -f (\S+\.yaml)/g))
        expect(statSync(join(REPO_ROOT, file!)).isFile(), file).toBe(true);
      for (const [, profile] of line.matchAll(/--profile (\w+)/g))
        expect(compose, profile).toContain(`profiles: [${profile}]`);
    }
  });
});
