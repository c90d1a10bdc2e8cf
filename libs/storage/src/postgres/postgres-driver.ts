import { Pool, types as pgTypes, type CustomTypesConfig, type PoolClient, type PoolConfig } from 'pg';
import type { SqlDriver, SqlValue } from '../sql/sql-driver';

export interface PostgresDriverOptions {
  /** postgres://user:pass@host:port/db */
  readonly url: string;
  /** Pool size; analytics writes in one transaction at a time, queries run beside it. */
  readonly maxConnections?: number;
  readonly statementTimeoutMs?: number;
  readonly applicationName?: string;
  /** Errors of idle pooled connections (server restart, network); the pool replaces them. */
  readonly onError?: (error: Error) => void;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * What SQLite hands back: COUNT/SUM of BIGINT come as int8/numeric, which pg
 * returns as strings. Per pool (not pg's global parsers), so nothing else in
 * the process changes. An int8 beyond 2^53 stays exact as a bigint.
 */
const TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      if (oid === INT8_OID) {
        return (v: string) => {
          const n = Number(v);
          return Number.isSafeInteger(n) ? n : BigInt(v);
        };
      }
      if (oid === NUMERIC_OID) return (v: string) => Number(v);
    }
    return pgTypes.getTypeParser(oid, format);
  }) as CustomTypesConfig['getTypeParser'],
};

/**
 * Rewrites `?` placeholders to PostgreSQL's `$1, $2, ...`, leaving any `?`
 * inside string literals, quoted identifiers, dollar-quoted bodies and
 * comments alone. (PostgreSQL's jsonb `?` operators are therefore not usable
 * in shared SQL; nothing needs them.)
 */
export function toPostgresPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  const len = sql.length;
  while (i < len) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '?') {
      out += `$${++n}`;
      i++;
    } else if (c === "'" || c === '"') {
      // '' (or "") inside is an escaped quote: the scan simply re-enters the literal.
      const backslashEscapes = c === "'" && (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !isIdentChar(sql[i - 2]);
      let j = i + 1;
      while (j < len && sql[j] !== c) j += backslashEscapes && sql[j] === '\\' ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const j = end === -1 ? len : end;
      out += sql.slice(i, j);
      i = j;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      const j = end === -1 ? len : end + 2;
      out += sql.slice(i, j);
      i = j;
    } else if (c === '$' && !isIdentChar(sql[i - 1])) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        const j = end === -1 ? len : end + tag[0].length;
        out += sql.slice(i, j);
        i = j;
      } else {
        out += c;
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function isIdentChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}

/** Translated statements, by source text; the query layer uses a handful of fixed strings. */
class PlaceholderCache {
  private readonly map = new Map<string, string>();
  get(sql: string): string {
    let t = this.map.get(sql);
    if (t === undefined) {
      t = toPostgresPlaceholders(sql);
      if (this.map.size >= 1000) this.map.clear();
      this.map.set(sql, t);
    }
    return t;
  }
}

type Queryable = Pick<PoolClient, 'query'>;

/** Runs statements on one queryable (the pool, or a transaction's client). */
class Statements {
  constructor(
    private readonly db: Queryable,
    private readonly cache: PlaceholderCache,
  ) {}

  async exec(sql: string): Promise<void> {
    // No parameters: the simple protocol, which allows several statements.
    await this.db.query(sql);
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const result = await this.db.query(this.cache.get(sql), params as SqlValue[]);
    return { changes: result.rowCount ?? 0 };
  }

  async all<R>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    const result = await this.db.query(this.cache.get(sql), params as SqlValue[]);
    return result.rows as R[];
  }
}

/** A transaction bound to one pooled client; nested `transaction` calls become savepoints. */
class PostgresTransaction implements SqlDriver {
  readonly dialect = 'postgres' as const;
  private readonly statements: Statements;
  private depth = 0;

  constructor(
    private readonly client: PoolClient,
    cache: PlaceholderCache,
  ) {
    this.statements = new Statements(client, cache);
  }

  exec(sql: string): Promise<void> {
    return this.statements.exec(sql);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.statements.run(sql, params);
  }

  all<R>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.statements.all<R>(sql, params);
  }

  async transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> {
    const name = `sp${++this.depth}`;
    await this.client.query(`SAVEPOINT ${name}`);
    try {
      const result = await work(this);
      await this.client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (err) {
      await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
      await this.client.query(`RELEASE SAVEPOINT ${name}`);
      throw err;
    } finally {
      this.depth--;
    }
  }

  /** The outer transaction owns the client; closing a transaction handle does nothing. */
  async close(): Promise<void> {}
}

/** PostgreSQL behind the SqlDriver port: a pg Pool, `?` placeholders, savepoint nesting. */
export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  private readonly pool: Pool;
  private readonly cache = new PlaceholderCache();
  private readonly statements: Statements;
  private closed = false;

  constructor(options: PostgresDriverOptions) {
    const config: PoolConfig = {
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      application_name: options.applicationName ?? 'crowdlens',
      types: TYPES,
    };
    if (options.statementTimeoutMs !== undefined) config.statement_timeout = options.statementTimeoutMs;
    this.pool = new Pool(config);
    // An idle client's error would otherwise be an unhandled 'error' event and kill the process.
    this.pool.on('error', (err) => options.onError?.(err));
    this.statements = new Statements(this.pool, this.cache);
  }

  exec(sql: string): Promise<void> {
    return this.statements.exec(sql);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.statements.run(sql, params);
  }

  all<R>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.statements.all<R>(sql, params);
  }

  async transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
    let broken: Error | undefined;
    try {
      try {
        const result = await work(new PostgresTransaction(client, this.cache));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection itself failed: drop it from the pool instead of reusing it.
          broken = rollbackError as Error;
        }
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
