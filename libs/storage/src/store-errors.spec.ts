import Database from 'better-sqlite3';
import { DatabaseError } from 'pg';
import { describe, expect, it } from 'vitest';
import { classifyStoreError } from './store-errors';

function pgError(code: string): DatabaseError {
  const e = new DatabaseError('from the server', 0, 'error');
  e.code = code;
  e.severity = 'ERROR';
  return e;
}

/** A real better-sqlite3 error from running `sql`. */
function sqliteError(setup: string, sql: string): unknown {
  const db = new Database(':memory:');
  try {
    db.exec(setup);
    db.exec(sql);
  } catch (err) {
    return err;
  } finally {
    db.close();
  }
  throw new Error(`${sql} did not fail`);
}

describe('classifyStoreError', () => {
  it('PostgreSQL: data exceptions (22) and constraint violations (23) are permanent', () => {
    for (const code of ['22021', '22003', '22P02', '23502', '23505', '23514']) {
      expect(classifyStoreError(pgError(code)), code).toBe('permanent');
    }
  });

  it('PostgreSQL: connection, serialization, resource, shutdown and our own SQL errors are transient', () => {
    for (const code of ['08006', '08001', '40001', '40P01', '53300', '57P01', '57014', '42P01', '42703', 'XX000']) {
      expect(classifyStoreError(pgError(code)), code).toBe('transient');
    }
  });

  it('network errors and unknown errors are transient, also behind a cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(classifyStoreError(refused)).toBe('transient');
    expect(classifyStoreError(new Error('Connection terminated unexpectedly'))).toBe('transient');
    expect(classifyStoreError('a string')).toBe('transient');
    expect(classifyStoreError(new Error('wrapped', { cause: pgError('22021') }))).toBe('permanent');
  });

  it('SQLite: constraint violations, type mismatches and oversized values are permanent; busy and locked are not', () => {
    const notNull = sqliteError('CREATE TABLE t (id TEXT NOT NULL)', 'INSERT INTO t VALUES (NULL)');
    expect((notNull as { code: string }).code).toBe('SQLITE_CONSTRAINT_NOTNULL');
    expect(classifyStoreError(notNull)).toBe('permanent');
    const check = sqliteError('CREATE TABLE t (n INTEGER CHECK (n >= 0))', 'INSERT INTO t VALUES (-1)');
    expect(classifyStoreError(check)).toBe('permanent');
    const mismatch = sqliteError('CREATE TABLE t (id INTEGER PRIMARY KEY)', "INSERT INTO t VALUES ('x')");
    expect((mismatch as { code: string }).code).toBe('SQLITE_MISMATCH');
    expect(classifyStoreError(mismatch)).toBe('permanent');
    for (const code of ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR_WRITE', 'SQLITE_FULL', 'SQLITE_CANTOPEN']) {
      expect(classifyStoreError(new Database.SqliteError('x', code)), code).toBe('transient');
    }
  });
});
