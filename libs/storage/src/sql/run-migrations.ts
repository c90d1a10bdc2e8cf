import type { Migration } from './migrations';
import type { SqlDriver } from './sql-driver';

/** "CLmg": the transaction-scoped advisory lock that makes replicas starting together migrate one at a time. */
const MIGRATION_LOCK_KEY = 0x434c6d67;

/**
 * On PostgreSQL, several analytics replicas may start at once against one
 * database: each migration runs under a transaction-level advisory lock and
 * checks again, inside it, whether another replica has just applied it.
 * (SQLite has one process per file, and its transactions already serialise.)
 */
async function serialised(tx: SqlDriver): Promise<void> {
  if (tx.dialect === 'postgres') await tx.all(`SELECT pg_advisory_xact_lock(?)`, [MIGRATION_LOCK_KEY]);
}

/** Applies the migrations of `list` not yet in schema_migrations, each in its own transaction. */
export async function runMigrations(db: SqlDriver, list: readonly Migration[]): Promise<void> {
  await db.transaction(async (tx) => {
    await serialised(tx);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
    );
  });
  const done = new Set(
    (await db.all<{ version: number }>(`SELECT version FROM schema_migrations`)).map((r) => Number(r.version)),
  );
  for (const m of list) {
    if (done.has(m.version)) continue;
    await db.transaction(async (tx) => {
      await serialised(tx);
      const applied = await tx.all(`SELECT version FROM schema_migrations WHERE version = ?`, [m.version]);
      if (applied.length > 0) return;
      for (const statement of m.statements) await tx.exec(statement);
      await tx.run(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, [
        m.version,
        m.name,
        Date.now(),
      ]);
    });
  }
}
