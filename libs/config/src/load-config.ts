import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { AppConfigSchema, type AppConfig } from './config.schema';
import { redactText } from './redact';

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

function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${formatPath(issue.path) || '(root)'}: ${redactText(issue.message)}`);
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
  return { ...cfg, store };
}

type Env = Readonly<Record<string, string | undefined>>;

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
 * (CROWDLENS_CONFIG) < individual environment overrides.
 */
export function loadConfig(env: Env = process.env, overrides: Record<string, unknown> = {}): AppConfig {
  const file = env.CROWDLENS_CONFIG;
  let raw: Record<string, unknown> = {};
  if (file) {
    if (!existsSync(file))
      throw new ConfigError(`Config file not found: ${file} (CROWDLENS_CONFIG)`, ['CROWDLENS_CONFIG']);
    try {
      raw = (parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown> | null) ?? {};
    } catch (err) {
      throw new ConfigError(`Config file ${file} is not valid YAML: ${(err as Error).message}`, ['CROWDLENS_CONFIG']);
    }
  }
  const port = intFromEnv(env, 'CROWDLENS_HTTP_PORT') ?? intFromEnv(env, 'PORT');
  const merged: Record<string, unknown> = { ...raw, ...overrides };
  if (port !== undefined) merged.http = { ...((raw.http as object | undefined) ?? {}), port };
  if (env.CROWDLENS_ROLE) merged.role = env.CROWDLENS_ROLE;
  if (env.CROWDLENS_DATA_DIR) merged.dataDir = env.CROWDLENS_DATA_DIR;
  if (env.CROWDLENS_LOG_LEVEL) merged.logLevel = env.CROWDLENS_LOG_LEVEL;
  if (env.CROWDLENS_KAFKA_BROKERS) {
    merged.bus = {
      ...((raw.bus as object | undefined) ?? {}),
      type: 'kafka',
      brokers: env.CROWDLENS_KAFKA_BROKERS.split(','),
    };
  }
  if (env.CROWDLENS_POSTGRES_URL) merged.store = { type: 'postgres', url: env.CROWDLENS_POSTGRES_URL };
  return parseConfig(merged, file ? `configuration (${file})` : 'configuration');
}
