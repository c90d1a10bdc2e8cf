/**
 * Alerts in the distributed mode: an ingest process and an analytics process
 * joined by a real Kafka broker (each its own role, as `npm run start:ingest`
 * and `start:analytics` run them), the camera on a real RTSP server that is
 * killed and restarted. Only the analytics process has the alert rules; it
 * learns the camera from the camera-status topic alone (its config names no
 * camera) and a real HTTP receiver gets exactly one firing and one resolved.
 * Two analytics replicas share one PostgreSQL, as a scaled deployment does:
 * both evaluate, only the one holding the alert leadership sends, and when it
 * stops the other sends the next outage's messages.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@crowdlens/config';
import { createLogger } from '@crowdlens/runtime';
import type { CameraStatus } from '@crowdlens/contracts';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';
import { verifyWebhookSignature } from '../../apps/analytics/src/alerts/adapters/webhook-signature';
import type { AlertPayload } from '../../apps/analytics/src/alerts/services/alert-payload';
import { RtspTestServer } from '../rtsp/support/rtsp-server';
import { DedicatedKafka } from '../support/kafka';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { report, sleep, until } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRET = 'distributed-alerts-secret-0c4d';

describe('alerts in the distributed mode (Kafka between ingest and analytics)', () => {
  let kafka: DedicatedKafka;
  let rtsp: RtspTestServer;
  let receiver: WebhookReceiver;
  let ingest: RunningApp;
  let db: TestDatabase;
  /** Two replicas of analytics on one PostgreSQL; the first started holds the alert leadership. */
  let replicas: RunningApp[] = [];
  let analytics: RunningApp;

  beforeAll(async () => {
    [kafka, rtsp, receiver, db] = await Promise.all([
      DedicatedKafka.start('alerts'),
      RtspTestServer.start(),
      WebhookReceiver.start(),
      createTestDatabase('alerts'),
    ]);
    await rtsp.publish('door');
    const bus = { type: 'kafka', brokers: kafka.brokers, partitions: 2, cropRetentionMs: 60_000 } as const;
    const analyticsReplica = (n: number) =>
      startCrowdLens(
        parseConfig({
          role: 'analytics',
          logLevel: 'warn',
          http: { port: 0, host: '127.0.0.1' },
          dataDir: mkdtempSync(join(tmpdir(), `crowdlens-alerts-a${n}-`)),
          bus,
          store: { type: 'postgres', url: db.url },
          alerts: {
            evaluateIntervalMs: 200,
            rules: [{ type: 'camera-down', name: 'door-down', forSeconds: 3 }],
            webhooks: [{ name: 'ops', url: receiver.url, secret: SECRET, backoff: { initialMs: 300, maxMs: 2000 } }],
          },
        }),
        createLogger('warn', `analytics-${n}`),
      );
    // Analytics first: it reads statuses from when it joins. One after the other, so the first leads.
    replicas = [await analyticsReplica(1), await analyticsReplica(2)];
    analytics = replicas[0]!;
    ingest = await startCrowdLens(
      parseConfig({
        role: 'ingest',
        logLevel: 'warn',
        http: { port: 0, host: '127.0.0.1' },
        dataDir: mkdtempSync(join(tmpdir(), 'crowdlens-alerts-i-')),
        bus,
        detector: { workers: 1 },
        cameras: [{ id: 'door', url: rtsp.url('door'), fps: 2 }],
      }),
      createLogger('warn', 'ingest'),
    );
  }, 600_000);

  afterAll(async () => {
    await ingest?.close();
    for (const r of replicas) await r.close();
    await db?.drop();
    await rtsp?.stop();
    await receiver?.close();
    await kafka?.destroy();
  });

  const stateInAnalytics = async (app: RunningApp = analytics): Promise<string | undefined> => {
    const { cameras } = (await (await fetch(`${app.url}/api/cameras`)).json()) as { cameras: CameraStatus[] };
    return cameras.find((c) => c.cameraId === 'door')?.state;
  };
  const firingIn = async (app: RunningApp): Promise<number> =>
    ((await (await fetch(`${app.url}/api/alerts`)).json()) as { alerts: unknown[] }).alerts.length;
  const leaderGauge = async (app: RunningApp): Promise<number> => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('crowdlens_alerts_leader '));
    return Number(line?.split(' ')[1]);
  };
  /** Every door-down message whose outage began at or after `since` (either replica's). */
  const outageMessages = (since: number): AlertPayload[] =>
    receiver.accepted<AlertPayload>().filter((p) => p.rule === 'door-down' && Date.parse(p.startedAt) >= since - 1000);

  it('the analytics process sends one firing and one resolved for an RTSP outage it only hears of over Kafka', async () => {
    // Starting up is "connecting": on a busy machine that can outlast forSeconds and fire an alert of its
    // own. The outage starts once the camera streams and no alert is held, so that alert is not this one.
    await until(
      'analytics to see the camera streaming, with no alert firing',
      async () => ((await stateInAnalytics()) === 'streaming' && (await firingIn(analytics)) === 0 ? true : undefined),
      180_000,
    );
    expect([await leaderGauge(replicas[0]!), await leaderGauge(replicas[1]!)]).toEqual([1, 0]);
    const killedAt = Date.now();
    await rtsp.kill();
    const firing = await until(
      'the firing message',
      async () =>
        receiver
          .accepted<AlertPayload>()
          .find((p) => p.state === 'firing' && Date.parse(p.startedAt) >= killedAt - 1000),
      90_000,
    );
    expect(firing).toMatchObject({ rule: 'door-down', type: 'camera-down', camera: { id: 'door' }, forSeconds: 3 });
    await sleep(2000);
    await rtsp.restart();
    const resolved = await until(
      'the resolved message',
      async () => receiver.accepted<AlertPayload>().find((p) => p.state === 'resolved' && p.alertId === firing.alertId),
      120_000,
    );
    expect(resolved.value).toBe('streaming');
    await sleep(2000);
    const outage = receiver.accepted<AlertPayload>().filter((p) => p.alertId === firing.alertId);
    expect(outage.map((p) => p.state)).toEqual(['firing', 'resolved']);
    // Both replicas saw the outage; only the leader's messages went out (no second alertId).
    expect(outageMessages(killedAt).map((p) => p.state)).toEqual(['firing', 'resolved']);
    for (const r of receiver.requests) expect(verifyWebhookSignature(SECRET, r.body, r.signature)).toBe(true);
    report(
      `distributed alerts: firing ${Date.parse(firing.at) - killedAt} ms after the kill (value ${String(firing.value)}), ` +
        `${receiver.requests.length} request(s) in all`,
    );
  }, 600_000);

  it('the standby replica sends the next outage once the leader has stopped', async () => {
    const [leader, standby] = replicas as [RunningApp, RunningApp];
    await leader.close();
    replicas = [standby];
    await until(
      'the standby to take the alert leadership',
      async () => ((await leaderGauge(standby)) === 1 ? true : undefined),
      30_000,
    );
    await until(
      'the standby to see the camera streaming, with no alert firing',
      async () =>
        (await stateInAnalytics(standby)) === 'streaming' && (await firingIn(standby)) === 0 ? true : undefined,
      180_000,
    );
    const killedAt = Date.now();
    await rtsp.kill();
    const firing = await until(
      'the firing message from the new leader',
      async () => outageMessages(killedAt).find((p) => p.state === 'firing'),
      90_000,
    );
    await rtsp.restart();
    await until(
      'its resolved message',
      async () => receiver.accepted<AlertPayload>().find((p) => p.state === 'resolved' && p.alertId === firing.alertId),
      120_000,
    );
    await sleep(2000);
    expect(outageMessages(killedAt).map((p) => p.state)).toEqual(['firing', 'resolved']);
    report(
      `distributed alerts: after the leader stopped, the standby sent the next outage (${Date.parse(firing.at) - killedAt} ms after the kill)`,
    );
  }, 600_000);
});
