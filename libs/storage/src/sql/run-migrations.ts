import type { Migration } from './migrations';
import type { SqlDriver } from './sql-driver';

/** Applies the migrations of `list` not yet in schema_migrations, each in its own transaction. */
export async function runMigrations(db: SqlDriver, list: readonly Migration[]): Promise<void> {
  await db.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
  );
  const done = new Set(
    (await db.all<{ version: number }>(`SELECT version FROM schema_migrations`)).map((r) => Number(r.version)),
  );
  for (const m of list) {
    if (done.has(m.version)) continue;
    await db.transaction(async (tx) => {
      for (const statement of m.statements) await tx.exec(statement);
      await tx.run(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, [
        m.version,
        m.name,
        Date.now(),
      ]);
    });
  }
}
