import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SqlDriver, SqlValue } from '../sql/sql-driver';

/** better-sqlite3 is synchronous; the async surface keeps it interchangeable with PostgreSQL. */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private depth = 0;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
  }

  async exec(sql: string): Promise<void> {
    this.db.exec(sql);
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const info = this.db.prepare(sql).run(...params);
    return { changes: info.changes };
  }

  async all<R>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return this.db.prepare(sql).all(...params) as R[];
  }

  async transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> {
    // One connection: concurrent top-level transactions queue behind each other.
    const turn = this.lock.then(() => this.inTransaction(work));
    this.lock = turn.catch(() => undefined);
    return turn;
  }

  private async inTransaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> {
    const tx: SqlDriver = {
      dialect: this.dialect,
      exec: (sql) => this.exec(sql),
      run: (sql, params) => this.run(sql, params),
      all: (sql, params) => this.all(sql, params),
      transaction: (inner) => this.nested(inner),
      close: async () => undefined,
    };
    return this.nested(work, tx);
  }

  private async nested<T>(work: (tx: SqlDriver) => Promise<T>, tx?: SqlDriver): Promise<T> {
    const name = `sp${this.depth++}`;
    this.db.exec(`SAVEPOINT ${name}`);
    try {
      const result = await work(tx ?? this);
      this.db.exec(`RELEASE ${name}`);
      return result;
    } catch (err) {
      this.db.exec(`ROLLBACK TO ${name}`);
      this.db.exec(`RELEASE ${name}`);
      throw err;
    } finally {
      this.depth--;
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
