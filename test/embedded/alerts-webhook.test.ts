/**
 * Alerts end to end in the embedded app (startCrowdLens: ingest, inference,
 * analytics and the alerts module in one process, as `npm start` runs it):
 * a camera reads a real RTSP server (deploy/rtsp) that is killed and comes
 * back, and a real HTTP receiver in this test gets the webhook messages.
 * - exactly one "firing" and one "resolved" for the outage, however many
 *   evaluations saw the camera down, with a valid X-CrowdLens-Signature over
 *   the raw body, and no secret, camera URL or credentials in them;
 * - the receiver refuses the first attempt (HTTP 503): the message is
 *   retried with backoff and still arrives once;
 * - GET /api/alerts lists the alert while it fires (operators; viewers 403);
 * - a detector-latency rule with a 1 ms threshold fires on the latency the
 *   real detector reports in the camera's status (and is held, not resolved,
 *   while the camera is down and no latency is measured);
 * - the metrics count the deliveries and the failed attempt.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { parseConfig } from '@crowdlens/config';
import { createLogger } from '@crowdlens/runtime';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';
import { verifyWebhookSignature } from '../../apps/analytics/src/alerts/adapters/webhook-signature';
import type { AlertPayload } from '../../apps/analytics/src/alerts/services/alert-payload';
import { RtspTestServer } from '../rtsp/support/rtsp-server';
import { report, sleep, until } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRET = 'webhook-secret-e2e-5d1c9a7b3f';
const CAM_PASSWORD = 'cam-pass-9x7';
const KEYS = { viewer: 'viewer-key-0123456789', operator: 'operator-key-0123456789' };
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('alerts: webhook on a camera whose RTSP source disappears and comes back', () => {
  let rtsp: RtspTestServer;
  let app: RunningApp;
  let receiver: WebhookReceiver;
  const logLines: string[] = [];

  beforeAll(async () => {
    rtsp = await RtspTestServer.start({ auth: { door: { user: 'cam', password: CAM_PASSWORD } } });
    await rtsp.publish('door');
    // The first request is refused: the message must be retried, and still arrive once.
    receiver = await WebhookReceiver.start((n) => (n === 0 ? 503 : 200));
    const config = parseConfig({
      logLevel: 'info',
      http: { port: 0, host: '127.0.0.1' },
      dataDir: mkdtempSync(join(tmpdir(), 'crowdlens-alerts-')),
      detector: { workers: 1 },
      auth: {
        apiKeys: (Object.keys(KEYS) as (keyof typeof KEYS)[]).map((role) => ({
          name: role,
          role,
          keySha256: sha256(KEYS[role]),
        })),
      },
      cameras: [
        { id: 'door', name: 'Front door', url: rtsp.url('door', { user: 'cam', password: CAM_PASSWORD }), fps: 2 },
      ],
      alerts: {
        evaluateIntervalMs: 200,
        rules: [
          { type: 'camera-down', name: 'door-down', cameras: ['door'], forSeconds: 3 },
          { type: 'detector-latency', name: 'detector-slow', aboveMs: 1, forSeconds: 1 },
        ],
        webhooks: [
          { name: 'ops', url: receiver.url, secret: SECRET, timeoutMs: 2000, backoff: { initialMs: 300, maxMs: 2000 } },
        ],
      },
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    app = await startCrowdLens(config, createLogger('info', 'alerts-e2e', sink));
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await rtsp?.stop();
    await receiver?.close();
  });

  const get = (path: string, key: string) => fetch(`${app.url}${path}`, { headers: { 'x-api-key': key } });
  const acceptedAll = (): AlertPayload[] => receiver.accepted<AlertPayload>();
  const accepted = (): AlertPayload[] => acceptedAll().filter((p) => p.rule === 'door-down');
  const cameraState = async (): Promise<string | undefined> => {
    const res = await get('/api/cameras', KEYS.operator);
    const body = (await res.json()) as { cameras: Array<{ cameraId: string; state: string }> };
    return body.cameras.find((c) => c.cameraId === 'door')?.state;
  };

  it('sends one firing and one resolved, signed, retried past a 503, listed while firing', async () => {
    // CI shows only the failure: the app's own account of the camera and the alerts tells why.
    onTestFailed(() => {
      const lines = logLines
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '');
      report(`alerts e2e app log (last 80 of ${lines.length} lines):\n${lines.slice(-80).join('\n')}`);
      report(
        `alerts e2e receiver: ${JSON.stringify(receiver.requests.map((r) => ({ status: r.status, body: r.body.slice(0, 300) })))}`,
      );
    });
    // Starting up is "connecting": if that took longer than forSeconds, it has an alert of its own,
    // resolved once the camera streams. The outage starts after that.
    const alertsFiring = async (): Promise<number> =>
      ((await (await get('/api/alerts', KEYS.operator)).json()) as { alerts: unknown[] }).alerts.length;
    await until(
      'the camera streaming, with no alert firing',
      async () => ((await cameraState()) === 'streaming' && (await alertsFiring()) === 0 ? true : undefined),
      180_000,
    );
    const startupRequests = receiver.requests.length;

    const killedAt = Date.now();
    await rtsp.kill();
    const firing = await until(
      'the firing message',
      async () => accepted().find((p) => p.state === 'firing' && Date.parse(p.startedAt) >= killedAt - 1000),
      60_000,
    );
    expect(firing).toMatchObject({
      schemaVersion: 1,
      rule: 'door-down',
      type: 'camera-down',
      camera: { id: 'door', name: 'Front door' },
      zone: null,
      threshold: null,
      forSeconds: 3,
    });
    expect(['backoff', 'connecting', 'failed']).toContain(firing.value);
    // Held for forSeconds before it fired.
    expect(Date.parse(firing.at) - Date.parse(firing.startedAt)).toBeGreaterThanOrEqual(3000);

    const listed = await get('/api/alerts', KEYS.operator);
    expect(listed.status).toBe(200);
    const firingNow = ((await listed.json()) as { alerts: Array<{ rule: string }> }).alerts;
    expect(firingNow.filter((a) => a.rule === 'door-down')).toMatchObject([
      { rule: 'door-down', cameraId: 'door', cameraName: 'Front door', forSeconds: 3 },
    ]);
    expect((await get('/api/alerts', KEYS.viewer)).status).toBe(403);

    // Down for a while longer: many more evaluations (every 200 ms), still one message.
    await sleep(3000);
    await rtsp.restart();
    const resolved = await until(
      'the resolved message',
      async () => accepted().find((p) => p.state === 'resolved' && p.alertId === firing.alertId),
      120_000,
    );
    expect(resolved).toMatchObject({
      rule: 'door-down',
      camera: { id: 'door' },
      value: 'streaming',
      startedAt: firing.startedAt,
    });
    await sleep(2000); // anything sent twice would have arrived by now

    const all = accepted();
    const outage = all.filter((p) => p.alertId === firing.alertId);
    expect(outage.map((p) => p.state)).toEqual(['firing', 'resolved']);
    expect(new Set(outage.map((p) => p.id)).size).toBe(2);
    // Whatever else came is a start-up that took longer than forSeconds: one firing and one resolved too.
    const others = all.filter((p) => p.alertId !== firing.alertId);
    expect(others.map((p) => p.state)).toEqual(others.length === 0 ? [] : ['firing', 'resolved']);
    expect(others.every((p) => Date.parse(p.startedAt) < killedAt)).toBe(true);

    // The first attempt met a 503 and was retried: same delivery id, both signed over their raw body.
    const first = receiver.requests[0]!;
    expect(first.status).toBe(503);
    expect(receiver.requests[1]!.delivery).toBe(first.delivery);
    for (const r of receiver.requests) {
      expect(verifyWebhookSignature(SECRET, r.body, r.signature)).toBe(true);
      expect(verifyWebhookSignature('some-other-secret-000', r.body, r.signature)).toBe(false);
      expect(r.body).not.toContain(SECRET);
      expect(r.body).not.toContain(CAM_PASSWORD);
      expect(r.body).not.toContain('rtsp://');
    }
    const after = ((await (await get('/api/alerts', KEYS.operator)).json()) as { alerts: Array<{ rule: string }> })
      .alerts;
    expect(after.map((a) => a.rule)).toEqual(['detector-slow']);

    // The real detector's latency, carried in the camera's status, fired the 1 ms rule once and it holds.
    const slow = acceptedAll().filter((p) => p.rule === 'detector-slow');
    expect(slow.map((p) => p.state)).toEqual(['firing']);
    expect(slow[0]).toMatchObject({ type: 'detector-latency', camera: { id: 'door' }, threshold: 1 });
    expect(slow[0]!.value as number).toBeGreaterThan(1);
    const { cameras } = (await (await get('/api/cameras', KEYS.operator)).json()) as {
      cameras: Array<{ cameraId: string; detectMsRecent?: number }>;
    };
    expect(cameras.find((c) => c.cameraId === 'door')?.detectMsRecent).toBeGreaterThan(1);

    const metrics = await (await get('/metrics', KEYS.operator)).text();
    const delivered = Number(/crowdlens_alert_webhook_deliveries_total\{webhook="ops"\} (\d+)/.exec(metrics)?.[1]);
    expect(delivered).toBe(acceptedAll().length);
    expect(metrics).toMatch(/crowdlens_alert_webhook_failures_total\{webhook="ops"\} 1\b/);
    expect(metrics).toMatch(/crowdlens_alerts_firing\{rule="door-down",type="camera-down"\} 0\b/);
    expect(metrics).toMatch(/crowdlens_alerts_firing\{rule="detector-slow",type="detector-latency"\} 1\b/);
    expect(metrics).toMatch(/crowdlens_camera_detection_latency_recent_ms\{camera="door"\} \d/);

    const logs = logLines.join('');
    expect(logs).toContain('alert firing');
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain(CAM_PASSWORD);
    report(
      `alerts e2e: ${startupRequests} request(s) before the outage (start-up alert: ${others.length > 0}), ${receiver.requests.length} in all ` +
        `(${receiver.requests.filter((r) => r.status !== 200).length} refused and retried); ` +
        `firing ${Date.parse(firing.at) - killedAt} ms after the kill, resolved at ${resolved.at}; ` +
        `detector latency at its firing ${String(slow[0]!.value)} ms`,
    );
  }, 400_000);
});
