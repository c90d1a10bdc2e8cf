/**
 * The alert outbox: a webhook message the receiver has not taken yet is not
 * lost when the analytics process that sends stops. Real analytics processes
 * (startCrowdLens, role analytics), a real HTTP receiver that refuses until
 * told otherwise, real SQLite and PostgreSQL:
 * - restart: the process stops with its firing undelivered; the next process
 *   on the same store sends it, with the same delivery id, once;
 * - failover (PostgreSQL, two replicas): the leader stops with its firing
 *   undelivered; the standby takes the leadership and sends it, once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type AppConfigInput } from '@crowdlens/config';
import { CAMERA_STATUS_TOPIC, type CameraStatus } from '@crowdlens/contracts';
import { MESSAGE_BUS, type MessageBus } from '@crowdlens/bus';
import { createLogger } from '@crowdlens/runtime';
import { PostgresDriver, SqliteDriver, type SqlDriver } from '@crowdlens/storage';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';
import { SqlAlertOutbox } from '../../apps/analytics/src/alerts/adapters/sql-alert-outbox';
import type { AlertPayload } from '../../apps/analytics/src/alerts/services/alert-payload';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { sleep, until } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRET = 'outbox-test-secret-7f3a9c';

function failedStatus(cameraId: string): CameraStatus {
  return {
    schemaVersion: 1,
    cameraId,
    name: cameraId,
    url: 'rtsp://***@10.0.0.9/door',
    state: 'failed',
    lastError: 'connection refused',
    fps: 0,
    framesIn: 0,
    framesAnalysed: 0,
    framesDropped: 0,
    framesSkipped: 0,
    facesDetected: 0,
    tracks: 0,
    reconnects: 3,
    updatedAt: Date.now(),
  };
}

/** A receiver that answers 503 until `accepting` is set. */
async function gatedReceiver(): Promise<{ receiver: WebhookReceiver; accept: () => void }> {
  let accepting = false;
  const receiver = await WebhookReceiver.start(() => (accepting ? 200 : 503));
  return { receiver, accept: () => void (accepting = true) };
}

function analytics(store: AppConfigInput['store'], receiverUrl: string, dataDir: string): Promise<RunningApp> {
  return startCrowdLens(
    parseConfig({
      role: 'analytics',
      logLevel: 'warn',
      http: { port: 0, host: '127.0.0.1' },
      dataDir,
      store,
      alerts: {
        evaluateIntervalMs: 100,
        rules: [{ type: 'camera-down', name: 'door-down', forSeconds: 0 }],
        webhooks: [
          {
            name: 'ops',
            url: receiverUrl,
            secret: SECRET,
            timeoutMs: 2000,
            maxAttempts: 100,
            backoff: { initialMs: 100, maxMs: 300 },
          },
        ],
      },
    }),
    createLogger('warn'),
  );
}

/** The firing the stopped sender kept trying: refused at least twice, always with one delivery id. */
async function refusedFiring(receiver: WebhookReceiver): Promise<string> {
  await until('the firing refused twice', async () => (receiver.requests.length >= 2 ? true : undefined), 30_000);
  const ids = new Set(receiver.requests.map((r) => r.delivery));
  expect(ids.size).toBe(1);
  expect(receiver.requests.every((r) => r.status === 503)).toBe(true);
  return [...ids][0]!;
}

/** Delivered once, and nothing more arrives; the outbox is then empty. */
async function deliveredOnce(receiver: WebhookReceiver, delivery: string, outbox: () => Promise<unknown[]>) {
  await until('the kept firing delivered', async () => (receiver.accepted().length > 0 ? true : undefined), 30_000);
  await sleep(1000); // a second copy would have arrived by now
  const accepted = receiver.requests.filter((r) => r.status === 200);
  expect(accepted.map((r) => r.delivery)).toEqual([delivery]);
  expect(receiver.accepted<AlertPayload>()).toMatchObject([
    { rule: 'door-down', state: 'firing', camera: { id: 'door' } },
  ]);
  await until('the outbox emptied', async () => ((await outbox()).length === 0 ? true : undefined), 10_000);
}

const pending = (driver: () => SqlDriver) => async () => {
  const d = driver();
  try {
    return await new SqlAlertOutbox(d).pending();
  } finally {
    await d.close();
  }
};

describe('alert outbox', () => {
  const apps: RunningApp[] = [];
  const receivers: WebhookReceiver[] = [];
  const dirs: string[] = [];
  const dbs: TestDatabase[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'crowdlens-outbox-'));
    dirs.push(d);
    return d;
  };

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  afterAll(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    for (const db of dbs) await db.drop();
  });

  const BACKENDS = [
    {
      name: 'SQLite',
      store: async () => {
        const d = dir();
        return {
          config: { type: 'sqlite', path: join(d, 'crowdlens.db') } as const,
          driver: () => new SqliteDriver(join(d, 'crowdlens.db')),
        };
      },
    },
    {
      name: 'PostgreSQL',
      store: async () => {
        const db = await createTestDatabase('outbox_restart');
        dbs.push(db);
        return {
          config: { type: 'postgres', url: db.url } as const,
          driver: () => new PostgresDriver({ url: db.url }),
        };
      },
    },
  ];

  it.each(BACKENDS)(
    'a firing not yet delivered at a stop is sent by the next process on the same store ($name)',
    async (backend) => {
      const { config, driver } = await backend.store();
      const { receiver, accept } = await gatedReceiver();
      receivers.push(receiver);
      const first = await analytics(config, receiver.url, dir());
      await first.app.get<MessageBus>(MESSAGE_BUS).publish(CAMERA_STATUS_TOPIC, failedStatus('door'));
      const delivery = await refusedFiring(receiver);
      await first.close();
      expect((await pending(driver)()).map((m) => m.payload.id)).toEqual([delivery]);

      accept();
      // The next process has no camera status yet: nothing fires there; it only sends what was left.
      apps.push(await analytics(config, receiver.url, dir()));
      await deliveredOnce(receiver, delivery, pending(driver));
    },
    90_000,
  );

  it('a firing the leader had not delivered is sent by the standby that takes over (PostgreSQL)', async () => {
    const db = await createTestDatabase('outbox_failover');
    dbs.push(db);
    const store = { type: 'postgres', url: db.url } as const;
    const { receiver, accept } = await gatedReceiver();
    receivers.push(receiver);
    const leader = await analytics(store, receiver.url, dir());
    const standby = await analytics(store, receiver.url, dir());
    apps.push(standby);
    // Only the leader hears of the camera: the standby has nothing of its own to send.
    await leader.app.get<MessageBus>(MESSAGE_BUS).publish(CAMERA_STATUS_TOPIC, failedStatus('door'));
    const delivery = await refusedFiring(receiver);
    await leader.close();

    accept();
    await deliveredOnce(
      receiver,
      delivery,
      pending(() => new PostgresDriver({ url: db.url })),
    );
  }, 90_000);
});
