/**
 * Consumer groups are stable across restarts (issue 14, item 15): a
 * restarted analytics process joins the groups it had, instead of making a
 * new Kafka group at every start (its status group used to end in the pid).
 * Real analytics processes, a real broker.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import type { Admin } from 'kafkajs';
import { CrowdLensProcess, ensureBuilt } from '../support/crowdlens-process';
import { ensureKafka, listenOnce, rawKafka, type KafkaInstance } from '../support/kafka';
import { report, until } from '../support/wait';

describe('analytics consumer groups across restarts', () => {
  let kafka: KafkaInstance;
  let admin: Admin;
  let workDir: string;

  beforeAll(async () => {
    ensureBuilt();
    kafka = await ensureKafka();
    admin = rawKafka(kafka.brokers).admin();
    await admin.connect();
    workDir = mkdtempSync(join(tmpdir(), 'crowdlens-groups-'));
  }, 600_000);

  afterAll(async () => {
    await admin?.disconnect();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  // Retried: a broker that just started answers "coordinator loading" for a while.
  const analyticsGroups = (): Promise<Set<string>> =>
    until('the consumer groups', async () => {
      const { groups } = await admin.listGroups();
      return new Set(groups.map((g) => g.groupId).filter((id) => id.startsWith('crowdlens-analytics')));
    });

  it('a restarted analytics process makes no new consumer group', async () => {
    const configPath = join(workDir, 'analytics.yaml');
    writeFileSync(
      configPath,
      toYaml({
        logLevel: 'info',
        http: { host: '127.0.0.1' },
        cameras: [{ id: 'door', url: 'rtsp://10.1.1.1/door' }],
        bus: { type: 'kafka', brokers: kafka.brokers, partitions: 2 },
      }),
    );
    const dataDir = join(workDir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const port = await listenOnce(0);
    const run = async (name: string): Promise<void> => {
      const proc = await CrowdLensProcess.start({
        role: 'analytics',
        name,
        configPath,
        dataDir,
        logDir: workDir,
        port,
      });
      await proc.stop();
    };

    const before = await analyticsGroups();
    await run('analytics-1');
    const afterFirst = await analyticsGroups();
    await run('analytics-2');
    const afterSecond = await analyticsGroups();

    const madeBy = (after: Set<string>, prior: Set<string>) => [...after].filter((g) => !prior.has(g)).sort();
    report(`groups made by the first start: ${madeBy(afterFirst, before).join(', ') || 'none'}`);
    report(`groups made by the restart: ${madeBy(afterSecond, afterFirst).join(', ') || 'none'}`);
    // The instance's status group (fan-out: one per instance) is named for its host and port.
    expect(afterFirst).toContain(`crowdlens-analytics-status-${hostname()}-${port}.crowdlens.camera-status.v1`);
    expect(madeBy(afterSecond, afterFirst)).toEqual([]);
  });
});
