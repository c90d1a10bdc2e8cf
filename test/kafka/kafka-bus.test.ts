/**
 * KafkaBus against a real Apache Kafka 4 broker (deploy/kafka, started once
 * and reused). Every test has its own topics and groups; the restart test
 * runs its own broker so it can stop it.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DEAD_LETTERS_TOPIC,
  FACE_CROPS_TOPIC,
  GENDER_PREDICTIONS_TOPIC,
  type DeadLetter,
  type FaceCrop,
  type GenderPrediction,
} from '@crowdlens/contracts';
import { KafkaBus, type KafkaBusTuning, type MessageMeta, type Subscription } from '@crowdlens/bus';
import { REPO_ROOT, envPort, uniqueName } from '../support/deploy-scripts';
import { TopicJanitor, ensureKafka, rawKafka, startKafka, stopKafka, type KafkaInstance } from '../support/kafka';
import { report, sleep, waitFor } from '../support/wait';
import { crop, prediction } from './messages';

const TEST_TUNING: Partial<KafkaBusTuning> = {
  retry: { retries: 40, initialRetryTime: 100, maxRetryTime: 2_000 },
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 15_000,
  heartbeatIntervalMs: 500,
  maxWaitTimeMs: 200,
};

describe('KafkaBus on a real broker', () => {
  let kafka: KafkaInstance;
  let janitor: TopicJanitor;
  const buses: KafkaBus[] = [];

  const newBus = (partitions = 3, tuning: Partial<KafkaBusTuning> = {}, brokers = kafka.brokers): KafkaBus => {
    const bus = new KafkaBus({
      brokers,
      clientId: uniqueName('test-bus'),
      partitions,
      cropRetentionMs: 60_000,
      retentionMs: 3_600_000,
      tuning: { ...TEST_TUNING, ...tuning },
    });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    kafka = await ensureKafka();
    if (kafka.startMs > 0) report(`kafka broker started in ${kafka.startMs} ms`);
    janitor = new TopicJanitor(kafka.brokers);
  });

  afterEach(async () => {
    await Promise.allSettled(buses.splice(0).map((b) => b.close()));
  });

  afterAll(async () => {
    await janitor?.cleanup();
  });

  it('round-trips JSON messages, keyed by camera, in order per camera', async () => {
    const topic = janitor.topic(GENDER_PREDICTIONS_TOPIC, 'json');
    const bus = newBus(3);
    const got: Array<{ p: GenderPrediction; meta: MessageMeta }> = [];
    await bus.subscribe(topic, { group: uniqueName('g') }, async (p, meta) => {
      got.push({ p, meta });
    });

    const cameras = ['cam-a', 'cam-b', 'cam-c', 'cam-d', 'cam-e'];
    const sent: GenderPrediction[] = [];
    for (let i = 0; i < 400; i++) {
      const cam = cameras[i % cameras.length]!;
      sent.push(prediction(`p-${i}`, cam, i));
    }
    // Concurrent publishes still keep each camera's order: one request in flight, FIFO queue.
    await Promise.all(sent.map((p) => bus.publish(topic, p)));
    await waitFor('400 deliveries', () => got.length >= 400);
    await sleep(300);

    expect(got).toHaveLength(400);
    expect(new Set(got.map((g) => g.p.predictionId)).size).toBe(400);
    expect(got.map((g) => g.p).sort((a, b) => a.frameTs - b.frameTs)).toEqual(sent);
    for (const cam of cameras) {
      const mine = got.filter((g) => g.p.cameraId === cam);
      expect(mine.map((g) => g.p.frameTs)).toEqual([...mine.map((g) => g.p.frameTs)].sort((a, b) => a - b));
      expect(new Set(mine.map((g) => g.meta.partition)).size).toBe(1);
      expect(mine.every((g) => g.meta.key === cam && g.meta.topic === topic.name && g.meta.offset !== null)).toBe(true);
    }
    // Keys spread over the partitions (5 cameras, 3 partitions).
    expect(new Set(got.map((g) => g.meta.partition)).size).toBeGreaterThan(1);

    const stats = bus.stats();
    expect(stats.published[topic.name]).toBe(400);
    expect(stats.groups.find((g) => g.topic === topic.name)).toMatchObject({ delivered: 400, failed: 0, dropped: 0 });
  });

  it('round-trips binary crops with the JPEG as raw bytes and wire headers set', async () => {
    const topic = janitor.topic(FACE_CROPS_TOPIC, 'crops');
    const bus = newBus(2);
    const got: FaceCrop[] = [];
    await bus.subscribe(topic, { group: uniqueName('g') }, async (c) => {
      got.push(c);
    });
    const sent = Array.from({ length: 60 }, (_, i) => crop(i, `cam-${i % 3}`));
    for (const c of sent) await bus.publish(topic, c);
    await waitFor('60 crops', () => got.length >= 60);

    const byId = new Map(got.map((c) => [c.cropId, c]));
    expect(byId.size).toBe(60);
    for (const c of sent) {
      const back = byId.get(c.cropId)!;
      expect(back).toEqual(c);
      expect(Buffer.from(back.jpeg).equals(Buffer.from(c.jpeg))).toBe(true);
    }

    // On the wire: headers, and the JPEG verbatim (not base64) inside a frame barely larger than it.
    const consumer = rawKafka(kafka.brokers).consumer({ groupId: uniqueName('raw'), maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: topic.name, fromBeginning: true });
    const raw: Array<{ value: Buffer; headers: Record<string, string> }> = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        raw.push({ value: message.value!, headers });
      },
    });
    await waitFor('raw crops', () => raw.length >= 60);
    await consumer.disconnect();
    const first = raw.find((r) => r.value.includes(Buffer.from('"crop-7"')))!;
    expect(first.headers).toEqual({ 'content-type': 'application/x-crowdlens-binary', 'schema-version': '1' });
    expect(first.value.indexOf(Buffer.from(sent[7]!.jpeg))).toBeGreaterThan(0);
    expect(first.value.byteLength).toBeLessThan(sent[7]!.jpeg.byteLength + 600);
  });

  it('provisions crop topics with short retention and rolling segments, other topics with long retention', async () => {
    const crops = janitor.topic(FACE_CROPS_TOPIC, 'config-crops');
    const predictions = janitor.topic(GENDER_PREDICTIONS_TOPIC, 'config-json');
    const bus = newBus(4);
    await bus.publish(crops, crop(1, 'cam-1'));
    await bus.publish(predictions, prediction('p-1', 'cam-1'));
    const admin = rawKafka(kafka.brokers).admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [crops, predictions].map((t) => ({
          type: 2 /* TOPIC */,
          name: t.name,
          configNames: ['retention.ms', 'segment.ms'],
        })),
      });
      const config = (name: string) =>
        Object.fromEntries(
          resources.find((r) => r.resourceName === name)!.configEntries.map((e) => [e.configName, e.configValue]),
        );
      // newBus: cropRetentionMs 60 s, retentionMs 1 h.
      expect(config(crops.name)).toEqual({ 'retention.ms': '60000', 'segment.ms': '30000' });
      expect(config(predictions.name)['retention.ms']).toBe('3600000');
      const [meta] = (await admin.fetchTopicMetadata({ topics: [crops.name] })).topics;
      expect(meta!.partitions).toHaveLength(4);
    } finally {
      await admin.disconnect();
    }
  });

  it('dead-letters poison messages with a reason and keeps the stream going', async () => {
    const topic = janitor.topic(GENDER_PREDICTIONS_TOPIC, 'poison');
    const crops = janitor.topic(FACE_CROPS_TOPIC, 'poison-crops');
    const bus = newBus(1);
    const group = uniqueName('g');

    const letters: DeadLetter[] = [];
    await bus.subscribe(DEAD_LETTERS_TOPIC, { group: uniqueName('dlq') }, async (d) => {
      if (d.sourceTopic === topic.name || d.sourceTopic === crops.name) letters.push(d);
    });
    const good: string[] = [];
    await bus.subscribe(topic, { group }, async (p) => {
      if (p.predictionId === 'throws') throw new Error('boom in handler');
      good.push(p.predictionId);
    });
    const cropHandled: string[] = [];
    await bus.subscribe(crops, { group }, async (c) => {
      cropHandled.push(c.cropId);
      throw new Error('classifier exploded');
    });

    // Poison produced around the bus, as a buggy or foreign producer would.
    const producer = rawKafka(kafka.brokers).producer();
    await producer.connect();
    const headers = { 'content-type': 'application/json', 'schema-version': '1' };
    const badJson = Buffer.from('{"predictionId": "p-1", oops');
    const v2 = Buffer.from(JSON.stringify({ ...prediction('p-v2', 'cam-1'), schemaVersion: 2 }));
    const invalid = Buffer.from(JSON.stringify({ ...prediction('p-bad', 'cam-1'), probMale: 7 }));
    await producer.send({
      topic: topic.name,
      messages: [
        { key: 'cam-1', value: badJson, headers },
        { key: 'cam-1', value: v2, headers: { ...headers, 'schema-version': '2' } },
        { key: 'cam-1', value: invalid, headers },
      ],
    });
    await producer.disconnect();
    await bus.publish(topic, prediction('throws', 'cam-1', 1));
    await bus.publish(topic, prediction('after-poison', 'cam-1', 2));
    const secret = crop(3, 'cam-1');
    await bus.publish(crops, secret);

    await waitFor('good message after the poison', () => good.includes('after-poison'));
    await waitFor('5 dead letters', () => letters.length >= 5);
    await sleep(300);

    expect(good).toEqual(['after-poison']);
    expect(letters).toHaveLength(5);
    const fromTopic = letters
      .filter((d) => d.sourceTopic === topic.name)
      .sort((a, b) => Number(a.offset) - Number(b.offset));
    expect(fromTopic.map((d) => d.reason)).toEqual([
      expect.stringMatching(new RegExp(`^${group}: invalid JSON`)),
      expect.stringMatching(/schema version 2, expected 1/),
      expect.stringMatching(/schema: .*probMale/s),
      expect.stringMatching(/handler: boom in handler/),
    ]);
    expect(fromTopic.map((d) => d.offset)).toEqual(['0', '1', '2', '3']);
    expect(fromTopic.every((d) => d.key === 'cam-1' && d.partition === 0)).toBe(true);
    expect(Buffer.from(fromTopic[0]!.payloadBase64, 'base64').equals(badJson)).toBe(true);

    // A crop's dead letter says which crop failed but never carries the face.
    expect(cropHandled).toEqual(['crop-3']);
    const cropLetter = letters.find((d) => d.sourceTopic === crops.name)!;
    expect(cropLetter.reason).toMatch(/handler: classifier exploded/);
    const kept = Buffer.from(cropLetter.payloadBase64, 'base64');
    expect(JSON.parse(kept.toString('utf8'))).toMatchObject({ cropId: 'crop-3', cameraId: 'cam-1' });
    expect(kept.includes(Buffer.from(secret.jpeg.subarray(0, 64)))).toBe(false);
    expect(kept.byteLength).toBeLessThan(1_000);

    const stats = bus.stats();
    expect(stats.deadLettered).toBe(5);
    expect(stats.groups.find((g) => g.topic === topic.name)).toMatchObject({ delivered: 1, failed: 4 });
  });

  it('splits a group between members; a member joining then leaving loses nothing', async () => {
    const topic = janitor.topic(GENDER_PREDICTIONS_TOPIC, 'group');
    const group = uniqueName('g');
    const producer = newBus(6);
    const seen = { a: new Map<string, number>(), b: new Map<string, number>(), c: new Map<string, number>() };
    const member = (name: keyof typeof seen) => async (p: GenderPrediction) => {
      seen[name].set(p.predictionId, (seen[name].get(p.predictionId) ?? 0) + 1);
    };
    // Each member is its own bus (its own connections), as separate processes would be.
    await newBus(6).subscribe(topic, { group }, member('a'));
    await newBus(6).subscribe(topic, { group }, member('b'));

    const total = 1_200;
    const ids = Array.from({ length: total }, (_, i) => `p-${i}`);
    const cameras = Array.from({ length: 12 }, (_, i) => `cam-${i}`);
    const publishRange = async (from: number, to: number) => {
      for (let i = from; i < to; i += 25) {
        await Promise.all(
          ids
            .slice(i, Math.min(to, i + 25))
            .map((id, k) => producer.publish(topic, prediction(id, cameras[(i + k) % 12]!, i + k))),
        );
        await sleep(10);
      }
    };
    const union = () => new Set([...seen.a.keys(), ...seen.b.keys(), ...seen.c.keys()]);

    await publishRange(0, 400);
    // A third member joins mid-stream, takes some partitions, then leaves while messages keep coming.
    const third: Subscription = await newBus(6).subscribe(topic, { group }, member('c'));
    const publishing = publishRange(400, 1_000);
    await waitFor('the third member to receive messages', () => seen.c.size > 0, 60_000);
    await third.close();
    await publishing;
    await publishRange(1_000, total);

    await waitFor(`all ${total} ids`, () => union().size === total, 90_000);
    const received = [...Object.values(seen)].reduce((s, m) => s + [...m.values()].reduce((x, y) => x + y, 0), 0);
    report(
      `group test: sent ${total}, received ${received} (a ${seen.a.size}, b ${seen.b.size}, c ${seen.c.size} unique), ` +
        `distinct ${union().size}, redelivered ${received - union().size}`,
    );
    expect(union().size).toBe(total);
    expect(seen.a.size).toBeGreaterThan(0);
    expect(seen.b.size).toBeGreaterThan(0);
    expect(seen.c.size).toBeGreaterThan(0);
    // Sharing, not broadcasting: no member saw everything.
    expect(Math.max(seen.a.size, seen.b.size)).toBeLessThan(total);
  });

  it('redelivers what a crashed consumer had not committed (at-least-once)', async () => {
    const topic = janitor.topic(GENDER_PREDICTIONS_TOPIC, 'crash');
    const group = uniqueName('g');
    const producer = newBus(2);
    // Creates the topic (2 partitions) before the child subscribes.
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
          CRASH_ON: 'p-150',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const handledByChild = new Set<string>();
    let ready = false;
    let crashedOn: string | null = null;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { event: string; id?: string };
      if (msg.event === 'ready') ready = true;
      if (msg.event === 'handled') handledByChild.add(msg.id!);
      if (msg.event === 'crashing') crashedOn = msg.id!;
    });
    const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)));
    try {
      await waitFor('the child consumer to join', () => ready, 60_000);

      const ids = Array.from({ length: 200 }, (_, i) => `p-${i}`);
      const phase1 = ids.slice(0, 100);
      await Promise.all(phase1.map((id, i) => producer.publish(topic, prediction(id, `cam-${i % 4}`, i))));
      await waitFor('the child to handle phase 1', () => phase1.every((id) => handledByChild.has(id)), 60_000);
      await Promise.all(
        ids.slice(100).map((id, i) => producer.publish(topic, prediction(id, `cam-${i % 4}`, 100 + i))),
      );
      expect(await exited).toBe('SIGKILL');
      expect(crashedOn).toBe('p-150');

      // A survivor in the same group takes over from the last committed offsets.
      const afterCrash = new Map<string, number>();
      await newBus(2).subscribe(topic, { group }, async (p) => {
        afterCrash.set(p.predictionId, (afterCrash.get(p.predictionId) ?? 0) + 1);
      });
      const mustArrive = ids.filter((id) => !handledByChild.has(id));
      await waitFor('the uncommitted messages', () => mustArrive.every((id) => afterCrash.has(id)), 90_000);
      await sleep(500);

      const redelivered = [...afterCrash.keys()].filter((id) => handledByChild.has(id));
      report(
        `crash test: sent 200, child handled ${handledByChild.size} then SIGKILL on p-150, ` +
          `survivor received ${afterCrash.size} (redelivered ${redelivered.length} already-handled), lost ${
            ids.filter((id) => !handledByChild.has(id) && !afterCrash.has(id)).length
          }`,
      );
      // The message whose handler died is delivered again, and nothing is lost.
      expect(afterCrash.has('p-150')).toBe(true);
      expect(ids.every((id) => handledByChild.has(id) || afterCrash.has(id))).toBe(true);
      // Offsets committed after phase 1 hold: that phase is not replayed.
      expect(phase1.filter((id) => afterCrash.has(id))).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (stderr.trim()) report(`crash child stderr: ${stderr.slice(-2_000)}`);
    }
  });

  describe('broker restart', () => {
    const port = envPort('CROWDLENS_TEST_KAFKA_RESTART_PORT', 39192);
    let own: KafkaInstance;
    let ownJanitor: TopicJanitor;

    beforeAll(async () => {
      own = await startKafka(port);
      ownJanitor = new TopicJanitor(own.brokers);
    });

    afterAll(async () => {
      await ownJanitor?.cleanup().catch(() => undefined);
      await stopKafka(port);
    });

    it('producer and consumer ride out a broker restart without losing acknowledged messages', async () => {
      const topic = ownJanitor.topic(GENDER_PREDICTIONS_TOPIC, 'restart');
      const producer = newBus(3, {}, own.brokers);
      const consumer = newBus(3, {}, own.brokers);
      const received = new Map<string, number>();
      await consumer.subscribe(topic, { group: uniqueName('g') }, async (p) => {
        received.set(p.predictionId, (received.get(p.predictionId) ?? 0) + 1);
      });

      const total = 600;
      const acked: string[] = [];
      const failed: string[] = [];
      let restartMs = 0;
      const publishing = (async () => {
        for (let i = 0; i < total; i += 10) {
          await Promise.all(
            Array.from({ length: 10 }, (_, k) => `p-${i + k}`).map((id, k) =>
              producer.publish(topic, prediction(id, `cam-${k % 5}`, i + k)).then(
                () => acked.push(id),
                () => failed.push(id),
              ),
            ),
          );
          await sleep(15);
        }
      })();

      await waitFor('200 acknowledged before the restart', () => acked.length >= 200, 60_000);
      const before = acked.length;
      const t0 = Date.now();
      await stopKafka(port);
      const downAt = acked.length;
      await sleep(1_000);
      await startKafka(port);
      restartMs = Date.now() - t0;
      await publishing;

      await waitFor('every acknowledged message', () => acked.every((id) => received.has(id)), 120_000);
      const deliveries = [...received.values()].reduce((a, b) => a + b, 0);
      report(
        `restart test: sent ${total}, acked ${acked.length} (${before} before stop, ${downAt} at stop), failed ${failed.length}, ` +
          `received ${received.size} distinct / ${deliveries} deliveries, broker down+up ${restartMs} ms`,
      );
      expect(failed).toEqual([]);
      expect(acked).toHaveLength(total);
      expect(received.size).toBe(total);
    });
  });
});
