import { runMigrations, type Migration, type SqlDriver } from '@crowdlens/storage';
import type { AlertPayload } from '../services/alert-payload';
import type { AlertOutbox, StoredAlertMessage } from './alert-outbox.port';

/**
 * The alert outbox's table, beside the aggregates in the one schema_migrations
 * history (versions 201+ belong to alerts). A row holds the message body as
 * sent: rule, camera id and name, zone, values. No image, URL or secret.
 */
export const ALERT_OUTBOX_MIGRATIONS: readonly Migration[] = [
  {
    version: 201,
    name: 'alert-outbox',
    statements: [
      `CREATE TABLE alert_outbox (
         seq BIGINT PRIMARY KEY,
         webhook TEXT NOT NULL,
         payload TEXT NOT NULL,
         created_at BIGINT NOT NULL
       )`,
    ],
  },
];

/**
 * The outbox on the analytics store (SQLite or PostgreSQL, the same SQL).
 * Sequence numbers come from the clock and a counter, not from the database:
 * only the alert leader writes, and a new leader reads what is left
 * (`pending`) before it writes, which moves its counter past every row there,
 * so its messages sort after the old leader's whatever the two clocks say.
 */
export class SqlAlertOutbox implements AlertOutbox {
  private last = 0;

  constructor(
    private readonly db: SqlDriver,
    private readonly now: () => number = Date.now,
  ) {}

  migrate(): Promise<void> {
    return runMigrations(this.db, ALERT_OUTBOX_MIGRATIONS);
  }

  async add(webhook: string, payload: AlertPayload): Promise<number> {
    // Microseconds since the epoch, strictly increasing in this process: fits 2^53 until the year 2255.
    const seq = Math.max(this.now() * 1000, this.last + 1);
    this.last = seq;
    await this.db.run(`INSERT INTO alert_outbox (seq, webhook, payload, created_at) VALUES (?, ?, ?, ?)`, [
      seq,
      webhook,
      JSON.stringify(payload),
      this.now(),
    ]);
    return seq;
  }

  async remove(seq: number): Promise<void> {
    await this.db.run(`DELETE FROM alert_outbox WHERE seq = ?`, [seq]);
  }

  async pending(): Promise<StoredAlertMessage[]> {
    const rows = await this.db.all<{ seq: number | string; webhook: string; payload: string }>(
      `SELECT seq, webhook, payload FROM alert_outbox ORDER BY seq`,
    );
    for (const r of rows) this.last = Math.max(this.last, Number(r.seq));
    return rows.map((r) => ({
      seq: Number(r.seq),
      webhook: r.webhook,
      payload: JSON.parse(r.payload) as AlertPayload,
    }));
  }
}
