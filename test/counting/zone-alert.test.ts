/**
 * A zone-occupancy alert on real footage, end to end in the embedded app:
 * OpenCV's vtest.avi (an elevated CCTV view of a walkway, several people in
 * view at once) played like a live camera, one zone over the whole picture,
 * and a rule "more than 2 people inside" (the least k = 3 allows). The
 * people are found by the real person detector and tracker, their zone
 * visits stored in SQLite, and the occupancy read back by the alerts module,
 * which POSTs to a real HTTP receiver in this test.
 * - it fires while the walkway holds 3 or more people, with that count;
 * - every firing is resolved once (the clip ends, everyone leaves), never
 *   fired twice in a row for the same zone (deduplicated while it holds);
 * - the occupancy gauge is exported for the Prometheus rule.
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
import { vtestPath } from '../../bench/counting/footage';
import { report, sleep, until } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRET = 'zone-alert-secret-4b8e1f0c';

describe('zone-occupancy alert on real footage (vtest.avi)', () => {
  let app: RunningApp;
  let receiver: WebhookReceiver;
  let gaugeSeen = 0;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    const config = parseConfig({
      dataDir: mkdtempSync(join(tmpdir(), 'crowdlens-zone-alert-')),
      logLevel: 'warn',
      http: { port: 0, host: '127.0.0.1' },
      detector: { workers: 1 },
      cameras: [
        {
          id: 'vtest',
          url: vtestPath(),
          fps: 5,
          // Played like a live camera: occupancy is "now", as an operator would see it.
          realtime: true,
          zones: [
            {
              name: 'walkway',
              points: [
                [0, 0],
                [1, 0],
                [1, 1],
                [0, 1],
              ],
            },
          ],
        },
      ],
      alerts: {
        evaluateIntervalMs: 500,
        rules: [{ type: 'zone-occupancy', name: 'walkway-busy', cameras: ['vtest'], zone: 'walkway', above: 2 }],
        webhooks: [
          {
            name: 'ops',
            url: receiver.url,
            secret: SECRET,
          },
        ],
      },
    });
    app = await startCrowdLens(config, createLogger('warn', 'zone-alert'));
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await receiver?.close();
  });

  it('fires while 3 or more people are inside, resolves each firing once, and exports the occupancy', async () => {
    const payloads = (): AlertPayload[] => receiver.accepted<AlertPayload>();
    // The clip is 79.5 s; on a loaded machine frames are dropped, never queued, so it ends in about that time.
    const deadline = Date.now() + 600_000;
    for (;;) {
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      const gauge = /crowdlens_zone_occupancy\{camera="vtest",zone="walkway"\} (\d+)/.exec(metrics);
      if (gauge) gaugeSeen = Math.max(gaugeSeen, Number(gauge[1]));
      const { cameras } = (await (await fetch(`${app.url}/api/cameras`)).json()) as { cameras: CameraStatus[] };
      if (cameras[0]?.state === 'stopped') break;
      if (Date.now() > deadline) throw new Error(`clip did not finish: ${JSON.stringify(cameras)}`);
      await sleep(1000);
    }
    // Everyone's track ends with the file: the zone empties and the alert resolves.
    await until(
      'every firing resolved',
      async () => {
        const p = payloads();
        const firing = p.filter((x) => x.state === 'firing').length;
        return firing > 0 && firing === p.filter((x) => x.state === 'resolved').length ? true : undefined;
      },
      120_000,
    );
    await sleep(2000);

    const all = payloads();
    const firings = all.filter((p) => p.state === 'firing');
    expect(firings.length).toBeGreaterThan(0);
    for (const f of firings) {
      expect(f).toMatchObject({
        rule: 'walkway-busy',
        type: 'zone-occupancy',
        camera: { id: 'vtest' },
        zone: 'walkway',
        threshold: 2,
      });
      expect(f.value as number).toBeGreaterThanOrEqual(3);
    }
    // Alternating firing / resolved per occurrence: never fired again while it held.
    expect(all.map((p) => p.state)).toEqual(all.map((_, i) => (i % 2 === 0 ? 'firing' : 'resolved')));
    for (let i = 0; i < all.length; i += 2) expect(all[i + 1]!.alertId).toBe(all[i]!.alertId);
    for (const r of receiver.requests) expect(verifyWebhookSignature(SECRET, r.body, r.signature)).toBe(true);
    expect(gaugeSeen).toBeGreaterThanOrEqual(3);
    const peak = Math.max(...firings.map((f) => f.value as number));
    report(
      `vtest.avi zone alert: ${firings.length} firing/resolved pair(s), occupancy at firing ${firings.map((f) => f.value).join(', ')}; ` +
        `peak gauge ${gaugeSeen}, peak at firing ${peak}`,
    );
  }, 700_000);
});
