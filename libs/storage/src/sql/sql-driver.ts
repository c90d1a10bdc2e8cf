export type SqlValue = string | number | bigint | null;

/**
 * The small surface the query layer needs from a database. SQL is written
 * once with `?` placeholders in the dialect SQLite and PostgreSQL share;
 * adapters translate placeholders and run it.
 */
export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  exec(sql: string): Promise<void>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  all<R>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
