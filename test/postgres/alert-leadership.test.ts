/**
 * Which analytics replica sends the alerts: a PostgreSQL advisory lock on a
 * session of its own. Real PostgreSQL, real sessions: one leader among
 * several, a hand-over when the leader stops, and when the server ends the
 * leader's session (what a crash or a lost network looks like from there).
 */
import { Client } from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAlertLeadership } from '../../apps/analytics/src/alerts/adapters/postgres-alert-leadership';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { report, sleep, until } from '../support/wait';

const silent = pino({ level: 'silent' });
const RETRY_MS = 150;

describe('alert leadership on PostgreSQL', () => {
  let db: TestDatabase;
  let other: TestDatabase;
  const started: PostgresAlertLeadership[] = [];

  const replica = async (url: string, changes: boolean[] = []): Promise<PostgresAlertLeadership> => {
    const l = new PostgresAlertLeadership({ url, logger: silent, retryMs: RETRY_MS, onChange: (x) => changes.push(x) });
    started.push(l);
    await l.start();
    return l;
  };
  const leaders = (ls: readonly PostgresAlertLeadership[]) => ls.filter((l) => l.isLeader()).length;

  beforeAll(async () => {
    [db, other] = await Promise.all([createTestDatabase('leader'), createTestDatabase('leader_other')]);
  }, 300_000);

  afterEach(async () => {
    await Promise.all(started.splice(0).map((l) => l.close()));
  });

  afterAll(async () => {
    await db?.drop();
    await other?.drop();
  });

  it('makes exactly one of three replicas the leader, and keeps it so', async () => {
    const ls = [await replica(db.url), await replica(db.url), await replica(db.url)];
    expect(ls[0]!.isLeader()).toBe(true);
    expect(leaders(ls)).toBe(1);
    // Several retry beats later, nobody else has taken it.
    await sleep(RETRY_MS * 5);
    expect(leaders(ls)).toBe(1);
    expect(ls[0]!.isLeader()).toBe(true);
  });

  it('hands over to a standby when the leader stops', async () => {
    const a = await replica(db.url);
    const changes: boolean[] = [];
    const b = await replica(db.url, changes);
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    const t0 = Date.now();
    await a.close();
    await until('the standby to take over', async () => (b.isLeader() ? true : undefined), 10_000);
    expect(a.isLeader()).toBe(false);
    expect(changes).toEqual([true]);
    report(`alert leadership: standby took over ${Date.now() - t0} ms after the leader stopped (retry ${RETRY_MS} ms)`);
  });

  it('stops sending when the server ends the leader session, and exactly one replica leads again', async () => {
    const changesA: boolean[] = [];
    const a = await replica(db.url, changesA);
    const b = await replica(db.url);
    expect(a.isLeader()).toBe(true);
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ pid: number }>(
        `SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.database =
           (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      expect(rows).toHaveLength(1);
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    } finally {
      await admin.end();
    }
    await until('the old leader to notice', async () => (changesA.includes(false) ? true : undefined), 10_000);
    await until('one leader again', async () => (leaders([a, b]) === 1 ? true : undefined), 10_000);
    await sleep(RETRY_MS * 4);
    expect(leaders([a, b])).toBe(1);
  });

  it('keeps deployments on different databases apart: each has its own leader', async () => {
    const here = await replica(db.url);
    const there = await replica(other.url);
    expect([here.isLeader(), there.isLeader()]).toEqual([true, true]);
  });

  it('is no leader while the database cannot be reached, without throwing', async () => {
    const changes: boolean[] = [];
    const l = await replica('postgres://postgres@127.0.0.1:1/crowdlens', changes);
    expect(l.isLeader()).toBe(false);
    expect(changes).toEqual([]);
  });
});
