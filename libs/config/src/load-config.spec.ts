import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultMaxCameras } from './config.schema';
import { ConfigError, loadConfig, parseConfig, PUBLISHED_PASSWORD_HASHES } from './load-config';
import { isLoopbackHost } from './loopback';
import { redactText, redactUrl, registerSecret } from './redact';

function expectConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills sane defaults for an empty config', () => {
    const c = parseConfig({});
    expect(c.role).toBe('embedded');
    expect(c.http.port).toBe(3000);
    expect(c.bus).toEqual({ type: 'memory', queueCapacity: 512 });
    expect(c.store).toEqual({ type: 'sqlite', path: 'data/crowdlens.db' });
    expect(parseConfig({ dataDir: '/var/lib/cl' }).store).toEqual({ type: 'sqlite', path: '/var/lib/cl/crowdlens.db' });
    expect(c.model.type).toBe('faceapi-age-gender');
    expect(c.batcher.maxBatch).toBeGreaterThan(1);
  });

  it('names the field of every invalid value', () => {
    const err = expectConfigError(() =>
      parseConfig({
        cameras: [
          { id: 'ok', url: 'a.mp4', fps: -1 },
          { id: 'bad id!', url: '' },
        ],
        http: { port: 70000 },
      }),
    );
    expect(err.message).toContain('cameras[0].fps');
    expect(err.message).toContain('cameras[1].id');
    expect(err.message).toContain('cameras[1].url');
    expect(err.message).toContain('http.port');
  });

  it("takes a camera's own detector input size, a multiple of 32, and names the camera when it is not", () => {
    const c = parseConfig({
      cameras: [
        { id: 'door', url: 'a.mp4', detectorInputSize: 416 },
        { id: 'hall', url: 'b.mp4' },
      ],
    });
    expect(c.cameras.map((cam) => cam.detectorInputSize)).toEqual([416, undefined]);
    const err = expectConfigError(() =>
      parseConfig({ cameras: [{ id: 'door', url: 'a.mp4', detectorInputSize: 400 }] }),
    );
    expect(err.message).toContain('cameras[0].detectorInputSize');
  });

  it('rejects unknown keys and unknown backend types', () => {
    expect(expectConfigError(() => parseConfig({ camras: [] })).message).toMatch(/camras/);
    expect(expectConfigError(() => parseConfig({ bus: { type: 'rabbitmq' } })).message).toContain('bus.type');
  });

  it('rejects duplicate camera ids', () => {
    const err = expectConfigError(() =>
      parseConfig({
        cameras: [
          { id: 'a', url: 'x' },
          { id: 'a', url: 'y' },
        ],
      }),
    );
    expect(err.message).toContain('duplicate camera id "a"');
  });

  it('never echoes credentials from a bad camera URL', () => {
    const err = expectConfigError(() =>
      parseConfig({ cameras: [{ id: 'a', url: 'rtsp://admin:hunter2@10.0.0.5/live', fps: 99 }] }),
    );
    expect(err.message).not.toContain('hunter2');
  });

  it('loads a YAML file and lets the environment override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-config-'));
    const file = join(dir, 'crowdlens.yaml');
    writeFileSync(file, 'http:\n  port: 4000\ncameras:\n  - id: door\n    url: rtsp://cam.local/stream\n    fps: 2\n');
    const c = loadConfig({ CROWDLENS_CONFIG: file, PORT: '5000', CROWDLENS_LOG_LEVEL: 'warn' });
    expect(c.http.port).toBe(5000);
    expect(c.logLevel).toBe('warn');
    expect(c.cameras[0]).toMatchObject({ id: 'door', fps: 2, width: 640 });
  });

  it('reports a missing config file and a non-integer port clearly', () => {
    expect(expectConfigError(() => loadConfig({ CROWDLENS_CONFIG: '/nope/crowdlens.yaml' })).message).toContain(
      'Config file not found: /nope/crowdlens.yaml',
    );
    expect(expectConfigError(() => loadConfig({ PORT: 'eighty' })).message).toContain('PORT');
  });

  it('redacts credentials in URLs and free text', () => {
    expect(redactUrl('rtsp://admin:s3cret@10.0.0.5:554/live')).toBe('rtsp://***:***@10.0.0.5:554/live');
    expect(redactUrl('rtsp://10.0.0.5/live')).toBe('rtsp://10.0.0.5/live');
    expect(redactText('error opening rtsp://u:p@h/x and http://a:b@c/d')).toBe(
      'error opening rtsp://***:***@h/x and http://***:***@c/d',
    );
  });
});

describe('kafka bus security config', () => {
  const kafka = (extra: Record<string, unknown>) => ({ bus: { type: 'kafka', brokers: ['k:9093'], ...extra } });

  it('accepts ssl as true or PEM file paths, verifying certificates by default, and sasl credentials', () => {
    expect(parseConfig(kafka({ ssl: true })).bus).toMatchObject({ ssl: true });
    const c = parseConfig(
      kafka({
        ssl: { ca: '/etc/kafka/ca.pem', cert: '/etc/kafka/client.pem', key: '/etc/kafka/client.key' },
        sasl: { mechanism: 'scram-sha-512', username: 'ingest', password: 'pw' },
      }),
    );
    expect(c.bus).toMatchObject({
      ssl: {
        ca: '/etc/kafka/ca.pem',
        cert: '/etc/kafka/client.pem',
        key: '/etc/kafka/client.key',
        rejectUnauthorized: true,
      },
      sasl: { mechanism: 'scram-sha-512', username: 'ingest', password: 'pw' },
    });
  });

  it('names the field of every invalid security setting', () => {
    const message = (extra: Record<string, unknown>) => expectConfigError(() => parseConfig(kafka(extra))).message;
    expect(message({ ssl: { ca: 3 } })).toContain('bus.ssl.ca: Invalid input: expected string');
    expect(message({ ssl: { caFile: 'x' } })).toMatch(/bus\.ssl: Unrecognized key: "caFile"/);
    expect(message({ ssl: 'yes' })).toContain('bus.ssl: expected true (TLS with the system CAs) or an object');
    expect(message({ ssl: { cert: '/c.pem' } })).toContain('bus.ssl.key: cert and key go together');
    const sasl = message({ sasl: { mechanism: 'gssapi', username: '', password: '' } });
    expect(sasl).toContain('bus.sasl.mechanism');
    expect(sasl).toContain('bus.sasl.username');
    expect(sasl).toContain('bus.sasl.password');
  });

  it('never echoes the SASL password in a config error', () => {
    const err = expectConfigError(() =>
      parseConfig(kafka({ sasl: { mechanism: 'kerberos', username: 'u', password: 'correct-horse' }, ssl: 7 })),
    );
    expect(err.message).toContain('bus.sasl.mechanism');
    expect(err.message).not.toContain('correct-horse');
  });

  it('takes the SASL credentials from the environment over the file, and registers the password for redaction', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-config-'));
    const file = join(dir, 'crowdlens.yaml');
    writeFileSync(
      file,
      'bus:\n  type: kafka\n  brokers: [k:9093]\n  sasl:\n    mechanism: plain\n    username: ingest\n    password: from-file\n',
    );
    const c = loadConfig({ CROWDLENS_CONFIG: file, CROWDLENS_KAFKA_SASL_PASSWORD: 'env-only-s3cret' });
    expect(c.bus).toMatchObject({ sasl: { mechanism: 'plain', username: 'ingest', password: 'env-only-s3cret' } });
    expect(redactText('login with env-only-s3cret failed')).toBe('login with *** failed');

    const fromEnv = loadConfig({
      CROWDLENS_KAFKA_BROKERS: 'a:9093,b:9093',
      CROWDLENS_KAFKA_SASL_MECHANISM: 'scram-sha-256',
      CROWDLENS_KAFKA_SASL_USERNAME: 'analytics',
      CROWDLENS_KAFKA_SASL_PASSWORD: 'pw2-from-env',
    });
    expect(fromEnv.bus).toMatchObject({
      type: 'kafka',
      brokers: ['a:9093', 'b:9093'],
      sasl: { mechanism: 'scram-sha-256', username: 'analytics', password: 'pw2-from-env' },
    });
  });

  it('refuses SASL environment variables when the bus is not Kafka', () => {
    const err = expectConfigError(() => loadConfig({ CROWDLENS_KAFKA_SASL_PASSWORD: 'pw' }));
    expect(err.message).toContain('CROWDLENS_KAFKA_SASL_PASSWORD set, but bus.type is not kafka');
    expect(err.message).not.toContain(': pw');
  });

  it('does not quote the file around a YAML error (it may be a password line)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-config-'));
    const file = join(dir, 'crowdlens.yaml');
    writeFileSync(file, 'bus:\n  sasl:\n    password: "unterminated-s3cret\n');
    const err = expectConfigError(() => loadConfig({ CROWDLENS_CONFIG: file }));
    expect(err.message).toContain(`Config file ${file} is not valid YAML`);
    expect(err.message).not.toContain('unterminated-s3cret');
  });

  it('redacts registered secrets raw and JSON-escaped, alongside URL credentials', () => {
    registerSecret('q"uote-pw');
    expect(redactText('pw q"uote-pw in rtsp://u:p@h/x')).toBe('pw *** in rtsp://***:***@h/x');
    expect(redactText(JSON.stringify({ password: 'q"uote-pw' }))).toBe('{"password":"***"}');
  });
});

describe('CROWDLENS_SECRETS_FILE (a mounted Kubernetes or Compose secret)', () => {
  const hash = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=';

  it('merges its sections over the config file, keeping the file keys it does not set, under the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-config-'));
    const file = join(dir, 'crowdlens.yaml');
    const secrets = join(dir, 'secrets.yaml');
    writeFileSync(file, 'auth:\n  tokenTtlMinutes: 60\nbus:\n  type: kafka\n  brokers: [k:9092]\n  partitions: 4\n');
    writeFileSync(
      secrets,
      `auth:\n  tokenSecret: ${'s'.repeat(40)}\n  users:\n    - { username: ops, role: operator, passwordHash: "${hash}" }\n` +
        'bus:\n  sasl: { mechanism: scram-sha-512, username: cl, password: from-file }\n',
    );
    const c = loadConfig({
      CROWDLENS_CONFIG: file,
      CROWDLENS_SECRETS_FILE: secrets,
      CROWDLENS_KAFKA_SASL_PASSWORD: 'env-pw',
    });
    expect(c.auth).toMatchObject({ tokenTtlMinutes: 60, tokenSecret: 's'.repeat(40), users: [{ username: 'ops' }] });
    expect(c.bus).toMatchObject({ type: 'kafka', brokers: ['k:9092'], partitions: 4 });
    expect(c.bus.type === 'kafka' && c.bus.sasl).toMatchObject({ username: 'cl', password: 'env-pw' });
  });

  it('works without a config file, and names the variable when the file is missing or not a mapping', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-config-'));
    const secrets = join(dir, 'secrets.yaml');
    writeFileSync(secrets, `auth:\n  tokenSecret: ${'t'.repeat(32)}\n`);
    expect(loadConfig({ CROWDLENS_SECRETS_FILE: secrets }).auth.tokenSecret).toBe('t'.repeat(32));
    expect(expectConfigError(() => loadConfig({ CROWDLENS_SECRETS_FILE: join(dir, 'nope.yaml') })).message).toContain(
      'CROWDLENS_SECRETS_FILE',
    );
    writeFileSync(secrets, '- just\n- a list\n');
    expect(expectConfigError(() => loadConfig({ CROWDLENS_SECRETS_FILE: secrets })).message).toContain(
      'must hold a YAML mapping',
    );
  });
});

describe('the shipped example config', () => {
  const file = join(__dirname, '../../../deploy/crowdlens.example.yaml');

  it('is valid for a local demo (embedded, this machine only)', () => {
    const c = loadConfig({ CROWDLENS_CONFIG: file, CROWDLENS_HTTP_HOST: '127.0.0.1' });
    expect(c.cameras.map((cam) => cam.id)).toEqual(['entrance', 'tills']);
    expect(c.auth.users[0]!.role).toBe('admin');
  });

  it('is refused as it stands: its admin password hash is published, and the message says how to make one', () => {
    for (const env of [{}, { CROWDLENS_ROLE: 'analytics', CROWDLENS_HTTP_HOST: '127.0.0.1' }]) {
      const err = expectConfigError(() => loadConfig({ CROWDLENS_CONFIG: file, ...env }));
      expect(err.message).toContain('"admin" has the published example password hash ("change-me-now")');
      expect(err.message).toContain('npm run hash-password');
    }
  });
});

describe('the one-machine distributed example (deploy/examples/distributed.yaml)', () => {
  const repo = join(__dirname, '../../..');
  const file = join(repo, 'deploy/examples/distributed.yaml');

  it('loads for every role as written: Kafka and PostgreSQL of the deploy scripts, the sample video, loopback only', () => {
    for (const role of ['ingest', 'inference', 'analytics']) {
      const c = loadConfig({ CROWDLENS_CONFIG: file, CROWDLENS_ROLE: role, PORT: '3001' });
      expect(c.bus).toMatchObject({ type: 'kafka', brokers: ['127.0.0.1:9092'], newGroupsStartFrom: 'earliest' });
      expect(c.store).toEqual({ type: 'postgres', url: 'postgres://postgres@127.0.0.1:55432/crowdlens' });
      expect(isLoopbackHost(c.http.host)).toBe(true);
      expect(c.cameras.map((cam) => cam.url)).toEqual(['assets/sample.mp4']);
    }
    // The camera path is relative to the repository root, where the README's commands run.
    expect(existsSync(join(repo, 'assets/sample.mp4'))).toBe(true);
  });
});

describe('the published example password hash', () => {
  const published = [...PUBLISHED_PASSWORD_HASHES][0]!;
  const withAdmin = (extra: Record<string, unknown>) => ({
    auth: { users: [{ username: 'boss', role: 'admin', passwordHash: published }] },
    ...extra,
  });

  it('stops every role that is not a loopback-only embedded demo, and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-config-'));
    const file = join(dir, 'crowdlens.yaml');
    writeFileSync(file, JSON.stringify(withAdmin({ http: { host: '127.0.0.1' } })));
    expect(loadConfig({ CROWDLENS_CONFIG: file }).auth.users).toHaveLength(1);
    expect(loadConfig({ CROWDLENS_CONFIG: file, CROWDLENS_HTTP_HOST: '::1' }).http.host).toBe('::1');
    for (const env of [{ CROWDLENS_HTTP_HOST: '0.0.0.0' }, { CROWDLENS_ROLE: 'ingest' }]) {
      expect(expectConfigError(() => loadConfig({ CROWDLENS_CONFIG: file, ...env })).message).toContain(
        `Refusing to start with ${file}: auth.users: "boss" has the published example password hash`,
      );
    }
    // The check is at load, not in the schema: parsing stays free of policy.
    expect(parseConfig(withAdmin({})).auth.users).toHaveLength(1);
  });
});

describe('http.host', () => {
  it('defaults to this machine only while auth is off (drive-by CSRF), every interface with auth on', () => {
    expect(parseConfig({}).http).toEqual({ port: 3000, host: '127.0.0.1' });
    expect(parseConfig({ auth: { disabled: true } }).http.host).toBe('127.0.0.1');
    expect(parseConfig({ auth: { apiKeys: [{ name: 'k', role: 'viewer', keySha256: 'a'.repeat(64) }] } }).http).toEqual(
      { port: 3000, host: '0.0.0.0' },
    );
    expect(parseConfig({ http: { host: '0.0.0.0' } }).http.host).toBe('0.0.0.0');
  });

  it('CROWDLENS_HTTP_HOST overrides the file for every role, beside the port', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-config-'));
    const file = join(dir, 'crowdlens.yaml');
    writeFileSync(file, 'http:\n  port: 4000\n  host: 0.0.0.0\n');
    for (const role of ['embedded', 'ingest', 'inference', 'analytics']) {
      const c = loadConfig({ CROWDLENS_CONFIG: file, CROWDLENS_ROLE: role, CROWDLENS_HTTP_HOST: '127.0.0.1' });
      expect(c.http).toEqual({ port: 4000, host: '127.0.0.1' });
    }
    // Config-less processes (the README's inference and analytics commands) too, with the port from the environment.
    expect(loadConfig({ CROWDLENS_HTTP_HOST: '10.1.2.3', PORT: '3402' }).http).toEqual({
      port: 3402,
      host: '10.1.2.3',
    });
    expect(loadConfig({ CROWDLENS_CONFIG: file, PORT: '5000' }).http).toEqual({ port: 5000, host: '0.0.0.0' });
    expect(loadConfig({ PORT: '5000' }).http).toEqual({ port: 5000, host: '127.0.0.1' });
  });

  it('isLoopbackHost knows this machine’s names', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'LOCALHOST'])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1', 'example.com', '128.0.0.1'])
      expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('bus.newGroupsStartFrom', () => {
  const kafka = (extra: Record<string, unknown>) => ({ bus: { type: 'kafka', brokers: ['k:9092'], ...extra } });

  it('defaults to earliest (nothing lost to start order), accepts latest, rejects anything else', () => {
    expect(parseConfig(kafka({})).bus).toMatchObject({ newGroupsStartFrom: 'earliest' });
    expect(parseConfig(kafka({ newGroupsStartFrom: 'latest' })).bus).toMatchObject({ newGroupsStartFrom: 'latest' });
    expect(expectConfigError(() => parseConfig(kafka({ newGroupsStartFrom: 'beginning' }))).message).toContain(
      'bus.newGroupsStartFrom',
    );
  });
});

describe('ingest.maxCameras (issue 14 item 7)', () => {
  const cams = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `cam-${i}`, url: `rtsp://h/${i}` }));

  it('defaults to 4 cameras per core, at most 8 cores (the measured ceiling at 5 fps)', () => {
    expect(defaultMaxCameras(2)).toBe(8);
    expect(defaultMaxCameras(1)).toBe(4);
    expect(defaultMaxCameras(64)).toBe(32);
    expect(parseConfig({}).ingest.maxCameras).toBe(defaultMaxCameras());
    expect(parseConfig({ ingest: { mediaDir: '/srv/media' } }).ingest.maxCameras).toBe(defaultMaxCameras());
  });

  it('refuses a camera list longer than the limit, naming the setting', () => {
    const err = expectConfigError(() => parseConfig({ ingest: { maxCameras: 2 }, cameras: cams(3) }));
    expect(err.issues.join('\n')).toMatch(
      /^cameras: 3 cameras configured, but one ingest process reads at most ingest\.maxCameras = 2/,
    );
    expect(parseConfig({ ingest: { maxCameras: 3 }, cameras: cams(3) }).cameras).toHaveLength(3);
    expect(() => parseConfig({ role: 'ingest', ingest: { maxCameras: 2 }, cameras: cams(3) })).toThrow(/maxCameras/);
  });

  it('judges a sharded list by its total (each shard checks its own share at start); other roles are not capped', () => {
    expect(
      parseConfig({ role: 'ingest', ingest: { maxCameras: 2, shard: '0/2' }, cameras: cams(4) }).cameras,
    ).toHaveLength(4);
    const err = expectConfigError(() =>
      parseConfig({ role: 'ingest', ingest: { maxCameras: 2, shard: '0/2' }, cameras: cams(5) }),
    );
    expect(err.message).toMatch(/2 ingest processes \(ingest\.shard\) read at most 2 x ingest\.maxCameras = 4/);
    expect(parseConfig({ role: 'analytics', ingest: { maxCameras: 2 }, cameras: cams(5) }).cameras).toHaveLength(5);
  });
});
