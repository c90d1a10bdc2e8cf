import { Client } from 'pg';
import type { Logger } from 'pino';
import { redactText } from '@crowdlens/config';
import type { AlertLeadership } from './alert-leadership.port';

/**
 * The advisory lock's two keys: "CLal" (CrowdLens alerts) and 1. One lock per
 * database, so every analytics replica of one deployment competes for it.
 */
export const ALERTS_LOCK_KEYS: readonly [number, number] = [0x434c616c, 1];

export interface PostgresAlertLeadershipOptions {
  readonly url: string;
  readonly logger: Logger;
  /** How often a standby tries for the lock and the leader checks its session (ms). */
  readonly retryMs?: number;
  /** Called when this process gains or loses the leadership. */
  readonly onChange?: (leader: boolean) => void;
}

const DEFAULT_RETRY_MS = 2000;
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Leadership as a PostgreSQL session-level advisory lock on a connection of
 * its own (a pooled one would hand the lock to whichever query ran on it).
 * The server releases the lock when that session ends (a crash, a lost
 * network, a stop), and a standby takes it at its next try. The leader
 * checks its session on the same beat: a session the server ended fails the
 * check, and the process stops sending at once. A leader cut off from the
 * database keeps sending until that check fails (≤ retryMs), so around a
 * failover one message can go out twice; never none for long.
 */
export class PostgresAlertLeadership implements AlertLeadership {
  private client: Client | null = null;
  private leader = false;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> | null = null;
  private closed = false;
  private lastError: string | null = null;

  constructor(private readonly opts: PostgresAlertLeadershipOptions) {}

  async start(): Promise<void> {
    await this.tick();
    if (this.closed) return;
    this.timer = setInterval(() => void this.tick(), this.opts.retryMs ?? DEFAULT_RETRY_MS);
    this.timer.unref();
  }

  isLeader(): boolean {
    return this.leader;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.busy;
    const c = this.client;
    this.client = null;
    this.leader = false; // not through onChange: stopping is not a hand-over worth a log line
    // Ending the session releases the lock: a standby sends from its next try.
    await c?.end().catch(() => undefined);
  }

  private tick(): Promise<void> {
    if (this.busy || this.closed) return this.busy ?? Promise.resolve();
    this.busy = this.attempt().finally(() => {
      this.busy = null;
    });
    return this.busy;
  }

  private async attempt(): Promise<void> {
    let client = this.client;
    try {
      if (!client) {
        client = new Client({
          connectionString: this.opts.url,
          application_name: 'crowdlens-alerts-leader',
          connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
          keepAlive: true,
        });
        const c = client;
        c.on('error', (err) => this.lose(c, err));
        await c.connect();
        this.client = c;
      }
      if (this.leader) {
        await client.query('SELECT 1');
      } else {
        const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
          ...ALERTS_LOCK_KEYS,
        ]);
        if (r.rows[0]?.ok) this.set(true);
      }
      if (this.lastError !== null) this.opts.logger.info('alert leadership: database reachable again');
      this.lastError = null;
    } catch (err) {
      this.lose(client, err);
    }
  }

  /** The session is gone or never came up (a URL the driver refuses lands here too, with no client). */
  private lose(c: Client | null, err: unknown): void {
    const message = redactText(err instanceof Error ? err.message : String(err));
    if (message !== this.lastError)
      this.opts.logger.warn(
        { err: message },
        this.leader
          ? 'alert leadership lost: this replica stops sending alerts'
          : 'alert leadership: cannot reach the database',
      );
    this.lastError = message;
    if (this.client === c) this.client = null;
    c?.end().catch(() => undefined);
    this.set(false);
  }

  private set(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.opts.onChange?.(leader);
  }
}
