/**
 * The database going away under a running analytics service: PostgreSQL is
 * stopped while predictions keep arriving, then started again. Nothing may be
 * dead-lettered or lost, nothing counted twice, and /ready must say the store
 * is failing while it is. Real PostgreSQL on its own port (stopping it must
 * not disturb the shared test server), real app, real bus.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@crowdlens/config';
import { GENDER_PREDICTIONS_TOPIC } from '@crowdlens/contracts';
import { MESSAGE_BUS, type InMemoryBus } from '@crowdlens/bus';
import { createLogger } from '@crowdlens/runtime';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';
import { REPO_ROOT, runDeployScript } from '../support/deploy-scripts';
import { listenOnce } from '../support/kafka';
import { personPrediction } from '../support/predictions';

const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);

async function countIds(url: string): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ n: string }>('SELECT count(*) AS n FROM applied_predictions');
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('analytics while its PostgreSQL is down', () => {
  let port = 0;
  let url = '';
  let running: RunningApp;
  const logLines: string[] = [];
  const pgEnv = () => ({ POSTGRES_PORT: String(port) });

  beforeAll(async () => {
    port = await listenOnce(0);
    await runDeployScript('postgres/start.sh', pgEnv());
    url = `postgres://postgres@127.0.0.1:${port}/crowdlens`;
    const config = parseConfig({
      role: 'analytics',
      dataDir: join(REPO_ROOT, '.cache', `outage-${port}`),
      http: { port: 0, host: '127.0.0.1' },
      store: { type: 'postgres', url },
      cameras: [{ id: 'door', url: 'rtsp://10.1.1.1/door' }],
    });
    const logger = createLogger('info', 'crowdlens', { write: (line: string) => void logLines.push(line) });
    running = await startCrowdLens(config, logger);
  }, 300_000);

  afterAll(async () => {
    await running?.close();
    await runDeployScript('postgres/stop.sh', { ...pgEnv(), POSTGRES_PURGE: '1' }).catch(() => undefined);
    rmSync(join(REPO_ROOT, '.cache', `outage-${port}`), { recursive: true, force: true });
  });

  const ready = async () => (await fetch(`${running.url}/ready`)).status;

  it('waits the outage out: every prediction counted once, none dead-lettered', async () => {
    const bus = running.app.get<InMemoryBus>(MESSAGE_BUS);
    const publish = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const p = personPrediction(`p-${i}`, 'door', `t-${i % 40}`, T0 + i * 1000, i % 3 === 0 ? 0.2 : 0.8);
        await bus.publish(GENDER_PREDICTIONS_TOPIC, p);
      }
    };

    await publish(0, 100);
    await until('the first 100 stored', async () => ((await countIds(url)) === 100 ? true : undefined), 30_000);
    expect(await ready()).toBe(200);

    await runDeployScript('postgres/stop.sh', pgEnv());
    await publish(100, 200);
    // The batch fails, is retried, and the service says it is not ready meanwhile.
    await until('/ready to report the failing store', async () => ((await ready()) === 503 ? true : undefined), 30_000);
    await until(
      'a logged retry',
      async () => (logLines.some((l) => l.includes('retrying (nothing is dropped)')) ? true : undefined),
      30_000,
    );
    expect(bus.stats().deadLettered).toBe(0);

    await runDeployScript('postgres/start.sh', pgEnv());
    await until('all 200 stored', async () => ((await countIds(url)) === 200 ? true : undefined), 60_000);
    await until('/ready again', async () => ((await ready()) === 200 ? true : undefined), 30_000);
    // Nothing lost, nothing dead-lettered, nothing twice: 200 faces in the aggregates.
    expect(bus.stats().deadLettered).toBe(0);
    const dropped = bus.stats().groups.reduce((n, g) => n + g.dropped, 0);
    expect(dropped).toBe(0);
    const stats = await fetch(`${running.url}/api/stats?from=${T0}&to=${T0 + 3_600_000}&bucket=hour`);
    expect(stats.status).toBe(200);
    const body = (await stats.json()) as { totals: { faces: number; visitors: number } };
    expect(body.totals.faces).toBe(200);
    expect(body.totals.visitors).toBe(40);
    expect(logLines.some((l) => l.includes('store recovered'))).toBe(true);
  });
});
