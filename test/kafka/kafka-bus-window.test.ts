/**
 * SubscribeOptions.concurrency on a real broker: a partition's messages run
 * through a sliding window of handlers, and only the contiguous completed
 * prefix is ever committed — so a crash with a stuck message at the front of
 * the window redelivers it and everything after it.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GENDER_PREDICTIONS_TOPIC, type GenderPrediction, type Topic } from '@crowdlens/contracts';
import { KafkaBus, kafkaGroupId, type KafkaBusTuning } from '@crowdlens/bus';
import { REPO_ROOT, uniqueName } from '../support/deploy-scripts';
import { TopicJanitor, ensureKafka, rawKafka, type KafkaInstance } from '../support/kafka';
import { report, sleep, until, waitFor } from '../support/wait';
import { prediction } from './messages';

const TUNING: Partial<KafkaBusTuning> = {
  retry: { retries: 40, initialRetryTime: 100, maxRetryTime: 2_000 },
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 15_000,
  heartbeatIntervalMs: 500,
  maxWaitTimeMs: 200,
};

describe('KafkaBus handler concurrency (sliding window per partition)', () => {
  let kafka: KafkaInstance;
  let janitor: TopicJanitor;
  const buses: KafkaBus[] = [];

  const newBus = (partitions: number, tuning: Partial<KafkaBusTuning> = {}): KafkaBus => {
    const bus = new KafkaBus({
      brokers: kafka.brokers,
      clientId: uniqueName('test-window'),
      partitions,
      cropRetentionMs: 60_000,
      retentionMs: 3_600_000,
      tuning: { ...TUNING, ...tuning },
    });
    buses.push(bus);
    return bus;
  };

  /** The group's committed offsets, summed over partitions (-1 = none counts as 0). */
  const committed = async (group: string, topic: Topic): Promise<number> => {
    const admin = rawKafka(kafka.brokers).admin();
    await admin.connect();
    try {
      const [t] = await admin.fetchOffsets({ groupId: kafkaGroupId(group, topic), topics: [topic.name] });
      return (t?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    kafka = await ensureKafka();
    janitor = new TopicJanitor(kafka.brokers);
  });

  afterEach(async () => {
    await Promise.allSettled(buses.splice(0).map((b) => b.close()));
  });

  afterAll(async () => {
    await janitor?.cleanup();
  });

  it('runs up to `concurrency` slow handlers of one partition at once and commits everything', async () => {
    const topic = janitor.topic(GENDER_PREDICTIONS_TOPIC, 'window');
    const producer = newBus(1);
    const total = 40;
    await Promise.all(
      Array.from({ length: total }, (_, i) => producer.publish(topic, prediction(`p-${i}`, 'cam-0', i))),
    );

    const measure = async (concurrency: number | undefined, count: number, handleMs: number) => {
      const group = uniqueName('g');
      let inFlight = 0;
      let peak = 0;
      const seen = new Map<string, number>();
      const started = Date.now();
      const sub = await newBus(1).subscribe(
        topic,
        { group, fromBeginning: true, ...(concurrency ? { concurrency } : {}) },
        async (p: GenderPrediction) => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await sleep(handleMs);
          inFlight--;
          seen.set(p.predictionId, (seen.get(p.predictionId) ?? 0) + 1);
        },
      );
      await waitFor(`${count} deliveries`, () => seen.size >= count, 60_000);
      const ms = Date.now() - started;
      await sub.close();
      return { group, peak, seen, ms };
    };

    const windowed = await measure(8, total, 300);
    const serial = await measure(undefined, total, 20);
    report(
      `window test: ${total} messages on 1 partition; concurrency 8 with 300 ms handlers: peak ${windowed.peak} in flight, ` +
        `${windowed.ms} ms; default concurrency with 20 ms handlers: peak ${serial.peak}, ${serial.ms} ms`,
    );
    expect(windowed.peak).toBe(8); // one partition: exactly the window, never more
    expect(serial.peak).toBe(1);
    for (const run of [windowed, serial]) {
      expect(run.seen.size).toBe(total);
      expect([...run.seen.values()].every((n) => n === 1)).toBe(true);
      // Closing committed the whole batch.
      expect(await committed(run.group, topic)).toBe(total);
    }
    // 40 x 300 ms one at a time would take 12 s.
    expect(windowed.ms).toBeLessThan(6_000);
  });

  it('heartbeats through a batch that takes longer than the session timeout: no rebalance, no redelivery', async () => {
    const topic = janitor.topic(GENDER_PREDICTIONS_TOPIC, 'long-batch');
    const producer = newBus(1);
    const total = 36;
    await Promise.all(
      Array.from({ length: total }, (_, i) => producer.publish(topic, prediction(`p-${i}`, 'cam-0', i))),
    );
    const seen = new Map<string, number>();
    const group = uniqueName('g');
    const started = Date.now();
    // 36 messages x 500 ms / 2 at a time = 9 s in one fetched batch, against a 6 s session.
    await newBus(1, { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 }).subscribe(
      topic,
      { group, fromBeginning: true, concurrency: 2 },
      async (p) => {
        await sleep(500);
        seen.set(p.predictionId, (seen.get(p.predictionId) ?? 0) + 1);
      },
    );
    await waitFor('every message', () => seen.size >= total, 60_000);
    const ms = Date.now() - started;
    await sleep(1_500); // a lost membership would show as a replay here
    const deliveries = [...seen.values()].reduce((a, b) => a + b, 0);
    report(`long-batch test: ${total} messages in ${ms} ms (session 6 s), ${deliveries} deliveries`);
    expect(ms).toBeGreaterThan(6_000);
    expect(deliveries).toBe(total);
    // Mid-batch commits (commitIntervalMs) already moved the group on before the batch ended.
    expect(
      await until(
        'the final commit',
        async () => ((await committed(group, topic)) === total ? true : undefined),
        10_000,
      ),
    ).toBe(true);
  });

  it('members joining and leaving while their windows are full lose nothing', async () => {
    const topic = janitor.topic(GENDER_PREDICTIONS_TOPIC, 'window-rebalance');
    const group = uniqueName('g');
    const producer = newBus(6);
    const seen = new Map<string, number>();
    const byMember = { a: 0, b: 0, c: 0 };
    const chains = { a: Promise.resolve(), b: Promise.resolve(), c: Promise.resolve() };
    let beforeTheGroup = 0;
    const member = (name: keyof typeof byMember) => async (p: GenderPrediction) => {
      // One at a time per member, as inference's batcher is: a full window takes seconds to drain.
      const turn = chains[name].then(() => sleep(10));
      chains[name] = turn;
      await turn;
      byMember[name]++;
      if (p.predictionId === 'warm-up') beforeTheGroup++;
      else seen.set(p.predictionId, (seen.get(p.predictionId) ?? 0) + 1);
    };
    // Two members of a brand-new group start together, as a deployment's processes do. The group
    // starts at "latest" (bus.newGroupsStartFrom), the mode whose start is pinned before joining.
    await producer.publish(topic, prediction('warm-up', 'cam-0'));
    await Promise.all([
      newBus(6).subscribe(topic, { group, concurrency: 16, fromBeginning: false }, member('a')),
      newBus(6).subscribe(topic, { group, concurrency: 16, fromBeginning: false }, member('b')),
    ]);
    const total = 3_000;
    const cameras = Array.from({ length: 24 }, (_, i) => `cam-${i}`);
    let next = 0;
    const publish = async (n: number) => {
      const from = next;
      next = Math.min(total, next + n);
      await Promise.all(
        Array.from({ length: next - from }, (_, k) =>
          producer.publish(topic, prediction(`p-${from + k}`, cameras[(from + k) % 24]!, from + k)),
        ),
      );
    };
    await publish(1_000); // a backlog: every window full
    const third = await newBus(6).subscribe(topic, { group, concurrency: 16, fromBeginning: false }, member('c'));
    await publish(1_000);
    await waitFor('the third member to handle some', () => byMember.c > 50, 60_000);
    await third.close();
    await publish(1_000);
    await waitFor(`all ${total}`, () => seen.size === total, 120_000);
    await sleep(1_000);
    const deliveries = [...seen.values()].reduce((x, y) => x + y, 0);
    report(
      `window rebalance test: ${total} messages, concurrency 16 x 6 partitions, handlers one at a time per member; ` +
        `a ${byMember.a}, b ${byMember.b}, c ${byMember.c}; ${deliveries} deliveries, ${deliveries - total} redelivered`,
    );
    expect(seen.size).toBe(total);
    // A new "latest" group starts at the end of the stream: never the message published before it existed...
    expect(beforeTheGroup).toBe(0);
    // ...and nothing is handled twice: at each rebalance the members drain their windows and
    // commit before rejoining, and a partition coming back to a member never rewinds to where
    // the group started (a seek-based start did that once).
    expect(deliveries - total).toBe(0);
    expect(byMember.a).toBeGreaterThan(0);
    expect(byMember.b).toBeGreaterThan(0);
  });

  it('a crash with a stuck message in the window redelivers it and every message after it', async () => {
    const topic = janitor.topic(GENDER_PREDICTIONS_TOPIC, 'window-crash');
    const group = uniqueName('g');
    const producer = newBus(2);
    await producer.publish(topic, prediction('warm-up', 'cam-0'));

    const child = spawn(
      resolve(REPO_ROOT, 'node_modules/.bin/vite-node'),
      ['--config', 'vitest.config.ts', 'test/kafka/fixtures/crashing-consumer.ts'],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          BROKERS: kafka.brokers.join(','),
          TOPIC: topic.name,
          GROUP: group,
          PARTITIONS: '2',
          CONCURRENCY: '8',
          HANDLE_MS: '30',
          HANG_ON: 'p-110',
          KILL_AFTER_MS: '2500',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    interface Seen {
      id: string;
      partition: number;
      offset: string;
    }
    const handledByChild = new Map<string, Seen>();
    let hung: Seen | null = null;
    let ready = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { event: string } & Seen;
      if (msg.event === 'ready') ready = true;
      if (msg.event === 'handled') handledByChild.set(msg.id, msg);
      if (msg.event === 'hanging') hung = msg;
    });
    const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)));
    try {
      await waitFor('the child consumer to join', () => ready, 60_000);
      const ids = Array.from({ length: 200 }, (_, i) => `p-${i}`);
      const cam = (i: number) => `cam-${i % 4}`;
      const phase1 = ids.slice(0, 100);
      await Promise.all(phase1.map((id, i) => producer.publish(topic, prediction(id, cam(i), i))));
      await waitFor('the child to handle phase 1', () => phase1.every((id) => handledByChild.has(id)), 60_000);
      // Phase 1's last batch is committed when it ends; give that commit a moment.
      await sleep(500);

      // Phase 2 in one produce request, so each partition's share arrives as one fetched batch.
      const raw = rawKafka(kafka.brokers).producer();
      await raw.connect();
      await raw.send({
        topic: topic.name,
        messages: ids.slice(100).map((id, k) => ({
          key: cam(100 + k),
          value: JSON.stringify(prediction(id, cam(100 + k), 100 + k)),
          headers: { 'content-type': 'application/json', 'schema-version': '1' },
        })),
      });
      await raw.disconnect();
      expect(await exited).toBe('SIGKILL');
      const stuck = hung as Seen | null;
      expect(stuck?.id).toBe('p-110');

      const afterCrash = new Map<string, Seen & { n: number }>();
      await newBus(2).subscribe(topic, { group }, async (p, meta) => {
        const prev = afterCrash.get(p.predictionId);
        afterCrash.set(p.predictionId, {
          id: p.predictionId,
          partition: meta.partition ?? -1,
          offset: meta.offset ?? '',
          n: (prev?.n ?? 0) + 1,
        });
      });
      const mustArrive = ids.filter((id) => !handledByChild.has(id));
      await waitFor('the uncommitted messages', () => mustArrive.every((id) => afterCrash.has(id)), 90_000);
      await sleep(500);

      // On the stuck message's partition, the child finished messages past it (the window counts
      // handlers in flight, not offsets, so it slides on around a stuck message up to the batch end)...
      const pastTheGap = [...handledByChild.values()].filter(
        (m) => m.partition === stuck!.partition && BigInt(m.offset) > BigInt(stuck!.offset),
      );
      // ...but none of them was committed: all come again.
      const pastTheGapRedelivered = pastTheGap.filter((m) => afterCrash.has(m.id));
      const lost = ids.filter((id) => !handledByChild.has(id) && !afterCrash.has(id));
      report(
        `window crash test: sent 200, child (concurrency 8) handled ${handledByChild.size}, stuck on p-110 ` +
          `(partition ${stuck!.partition} offset ${stuck!.offset}), finished ${pastTheGap.length} past it; survivor received ` +
          `${afterCrash.size} (${pastTheGapRedelivered.length} of those past the gap), lost ${lost.length}`,
      );
      expect(afterCrash.has('p-110')).toBe(true);
      expect(lost).toEqual([]);
      expect(pastTheGap.length).toBeGreaterThan(0);
      expect(pastTheGapRedelivered.length).toBe(pastTheGap.length);
      expect(phase1.filter((id) => afterCrash.has(id))).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (stderr.trim()) report(`window crash child stderr: ${stderr.slice(-2_000)}`);
    }
  });
});
