import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { AppConfigSchema, isAuthOff, type AppConfig } from './config.schema';
import { isLoopbackHost } from './loopback';
import { redactText, registerSecret } from './redact';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: readonly string[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === 'number') return `${acc}[${part}]`;
    return acc ? `${acc}.${String(part)}` : String(part);
  }, '');
}

type Issue = z.core.$ZodIssue;

/**
 * A union whose options all but one rejected the value's type (`ssl: true`
 * or an object) is reported as that option's own issues, so the message
 * names the bad field inside it instead of a bare "Invalid input".
 */
function flattenUnions(
  issue: Issue,
  prefix: readonly PropertyKey[] = [],
): Array<{ path: PropertyKey[]; message: string }> {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const plausible = issue.errors.filter(
      (b) => !(b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === 0),
    );
    if (plausible.length === 1) return plausible[0]!.flatMap((inner) => flattenUnions(inner, path));
  }
  return [{ path, message: issue.message }];
}

function describeIssues(error: z.ZodError): string[] {
  return error.issues
    .flatMap((issue) => flattenUnions(issue))
    .map(({ path, message }) => `${formatPath(path) || '(root)'}: ${redactText(message)}`);
}

/** Validates a raw config object; throws a ConfigError naming every bad field. No side effects. */
export function parseConfig(raw: unknown, source = 'configuration'): AppConfig {
  const result = AppConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issues = describeIssues(result.error);
    throw new ConfigError(`Invalid ${source}:\n  - ${issues.join('\n  - ')}`, issues);
  }
  const cfg = result.data;
  const store =
    cfg.store.type === 'sqlite'
      ? { type: 'sqlite' as const, path: cfg.store.path ?? join(cfg.dataDir, 'crowdlens.db') }
      : cfg.store;
  // Without auth anyone who reaches the port sees every count: this machine only, unless http.host says otherwise.
  const http = { port: cfg.http.port, host: cfg.http.host ?? (isAuthOff(cfg.auth) ? '127.0.0.1' : '0.0.0.0') };
  return { ...cfg, store, http };
}

type Env = Readonly<Record<string, string | undefined>>;

function readYamlFile(file: string, key: string): Record<string, unknown> {
  if (!existsSync(file)) throw new ConfigError(`Config file not found: ${file} (${key})`, [key]);
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    // Only the first line: the rest quotes the file around the error, which may be a password.
    const where = (err as Error).message.split('\n')[0];
    throw new ConfigError(`Config file ${file} is not valid YAML: ${where}`, [key]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError(`Config file ${file} (${key}) must hold a YAML mapping of config sections`, [key]);
  return parsed as Record<string, unknown>;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The secrets file (a Kubernetes Secret or Compose secret mounted beside the
 * ConfigMap) holds whole sections or parts of them, typically `auth:` and
 * `bus.sasl`: a section in both files keeps the main file's keys that the
 * secrets file does not set.
 */
function mergeSections(base: Record<string, unknown>, secrets: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...base };
  for (const [section, value] of Object.entries(secrets)) {
    const current = merged[section];
    merged[section] = isMapping(current) && isMapping(value) ? { ...current, ...value } : value;
  }
  return merged;
}

function intFromEnv(env: Env, key: string): number | undefined {
  const value = env[key];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n))
    throw new ConfigError(`Invalid environment: ${key}: expected an integer, got "${value}"`, [key]);
  return n;
}

/**
 * The only place that reads the environment. Precedence: defaults < YAML file
 * (CROWDLENS_CONFIG) < secrets file (CROWDLENS_SECRETS_FILE) < individual
 * environment overrides.
 */
export function loadConfig(env: Env = process.env, overrides: Record<string, unknown> = {}): AppConfig {
  const file = env.CROWDLENS_CONFIG;
  let raw: Record<string, unknown> = file ? readYamlFile(file, 'CROWDLENS_CONFIG') : {};
  const secretsFile = env.CROWDLENS_SECRETS_FILE;
  if (secretsFile) raw = mergeSections(raw, readYamlFile(secretsFile, 'CROWDLENS_SECRETS_FILE'));
  const port = intFromEnv(env, 'CROWDLENS_HTTP_PORT') ?? intFromEnv(env, 'PORT');
  const host = env.CROWDLENS_HTTP_HOST;
  const merged: Record<string, unknown> = { ...raw, ...overrides };
  if (port !== undefined || host) {
    merged.http = {
      ...((merged.http as object | undefined) ?? {}),
      ...(port !== undefined ? { port } : {}),
      ...(host ? { host } : {}),
    };
  }
  if (env.CROWDLENS_ROLE) merged.role = env.CROWDLENS_ROLE;
  if (env.CROWDLENS_DATA_DIR) merged.dataDir = env.CROWDLENS_DATA_DIR;
  if (env.CROWDLENS_LOG_LEVEL) merged.logLevel = env.CROWDLENS_LOG_LEVEL;
  if (env.CROWDLENS_INGEST_SHARD)
    merged.ingest = { ...((raw.ingest as object | undefined) ?? {}), shard: env.CROWDLENS_INGEST_SHARD };
  if (env.CROWDLENS_KAFKA_BROKERS) {
    merged.bus = {
      ...((raw.bus as object | undefined) ?? {}),
      type: 'kafka',
      brokers: env.CROWDLENS_KAFKA_BROKERS.split(','),
    };
  }
  const sasl = kafkaSaslFromEnv(env, merged.bus);
  if (sasl) merged.bus = { ...(merged.bus as object), sasl };
  if (env.CROWDLENS_POSTGRES_URL) merged.store = { type: 'postgres', url: env.CROWDLENS_POSTGRES_URL };
  const config = parseConfig(merged, file ? `configuration (${file})` : 'configuration');
  refusePublishedPasswords(config, file);
  if (config.bus.type === 'kafka') registerSecret(config.bus.sasl?.password);
  for (const webhook of config.alerts.webhooks) registerSecret(webhook.secret);
  return config;
}

/**
 * Password hashes printed in the repository (deploy/crowdlens.example.yaml's
 * admin is "change-me-now"): whoever copies the example would otherwise run
 * an admin account whose password is on the internet.
 */
export const PUBLISHED_PASSWORD_HASHES: ReadonlySet<string> = new Set([
  'scrypt$16384$8$1$pJPRlAG7qZn1+4sWmDVrvA==$t/9Kz6a8ReIoy31l0iqutuMk4d3UW9megdMAiGmT8D4=',
]);

/**
 * A published hash is tolerated only in a demo: the embedded role bound to
 * this machine alone, where nobody else can log in with it.
 */
function refusePublishedPasswords(config: AppConfig, file: string | undefined): void {
  if (config.auth.disabled) return;
  const demo = config.role === 'embedded' && isLoopbackHost(config.http.host);
  if (demo) return;
  const users = config.auth.users.filter((u) => PUBLISHED_PASSWORD_HASHES.has(u.passwordHash));
  if (users.length === 0) return;
  const names = users.map((u) => `"${u.username}"`).join(', ');
  const issue = `auth.users: ${names} ${users.length === 1 ? 'has' : 'have'} the published example password hash ("change-me-now")`;
  throw new ConfigError(
    `Refusing to start${file ? ` with ${file}` : ''}: ${issue}. Make your own with ` +
      '`npm run hash-password` (the passphrase on stdin) and put it in passwordHash ' +
      '(a local demo may keep it with role: embedded and http.host: 127.0.0.1).',
    [issue],
  );
}

const KAFKA_SASL_ENV = {
  mechanism: 'CROWDLENS_KAFKA_SASL_MECHANISM',
  username: 'CROWDLENS_KAFKA_SASL_USERNAME',
  password: 'CROWDLENS_KAFKA_SASL_PASSWORD',
} as const;

/** bus.sasl with the environment's overrides, so the password need not sit in the YAML file; undefined = none set. */
function kafkaSaslFromEnv(env: Env, bus: unknown): Record<string, unknown> | undefined {
  const set = Object.entries(KAFKA_SASL_ENV).filter(([, key]) => env[key]);
  if (set.length === 0) return undefined;
  const current = (bus ?? {}) as { type?: unknown; sasl?: unknown };
  if (current.type !== 'kafka') {
    const keys = set.map(([, key]) => key);
    throw new ConfigError(
      `Invalid environment: ${keys.join(', ')} set, but bus.type is not kafka (set it in the file or CROWDLENS_KAFKA_BROKERS)`,
      keys,
    );
  }
  const sasl: Record<string, unknown> = { ...((current.sasl as object | undefined) ?? {}) };
  for (const [field, key] of set) sasl[field] = env[key];
  return sasl;
}
