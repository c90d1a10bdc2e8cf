/**
 * KafkaBus edges on a real broker (issue 14, item 15): a subscribe that is
 * still joining when the bus closes, and a producer queue that is full.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENDER_PREDICTIONS_TOPIC, type GenderPrediction } from '@crowdlens/contracts';
import { KafkaBus, kafkaGroupId, type KafkaBusTuning } from '@crowdlens/bus';
import { uniqueName } from '../support/deploy-scripts';
import { TopicJanitor, ensureKafka, rawKafka, type KafkaInstance } from '../support/kafka';
import { report, sleep, waitFor } from '../support/wait';
import { prediction } from './messages';

const TEST_TUNING: Partial<KafkaBusTuning> = {
  retry: { retries: 40, initialRetryTime: 100, maxRetryTime: 2_000 },
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 15_000,
  heartbeatIntervalMs: 500,
  maxWaitTimeMs: 200,
};

describe('KafkaBus lifecycle on a real broker', () => {
  let kafka: KafkaInstance;
  let janitor: TopicJanitor;

  const newBus = (tuning: Partial<KafkaBusTuning> = {}): KafkaBus =>
    new KafkaBus({
      brokers: kafka.brokers,
      clientId: uniqueName('test-bus'),
      partitions: 2,
      cropRetentionMs: 60_000,
      retentionMs: 3_600_000,
      tuning: { ...TEST_TUNING, ...tuning },
    });

  beforeAll(async () => {
    kafka = await ensureKafka();
    janitor = new TopicJanitor(kafka.brokers);
  });

  afterAll(async () => {
    await janitor?.cleanup();
  });

  it('a subscribe still on its way when close() starts is refused and leaves no member in the group', async () => {
    const topic = janitor.topic(GENDER_PREDICTIONS_TOPIC, 'close-race');
    const group = uniqueName('g');
    const bus = newBus();
    const handled: string[] = [];
    // Not awaited: close() begins while the subscribe creates the topic and joins the group.
    const subscribing = bus
      .subscribe(topic, { group }, async (p) => void handled.push(p.predictionId))
      .then(
        () => 'subscribed',
        (err: Error) => err.message,
      );
    await bus.close();
    const outcome = await subscribing;
    report(`close race: subscribe settled as "${outcome}"`);
    expect(outcome).toMatch(/bus closed/);

    // Nobody may be consuming for the closed bus: a message published now stays unhandled.
    const other = newBus();
    try {
      await other.publish(topic, prediction('after-close', 'cam-1'));
      await sleep(3_000);
    } finally {
      await other.close();
    }
    expect(handled).toEqual([]);
    const admin = rawKafka(kafka.brokers).admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([kafkaGroupId(group, topic)]);
      expect(groups[0]?.members ?? []).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });

  it('publishes beyond the send queue bound wait for room, then all arrive in order; the waits are counted', async () => {
    const topic = janitor.topic(GENDER_PREDICTIONS_TOPIC, 'send-bound');
    const producerBus = newBus({ maxQueuedMessages: 5, maxSendBatchMessages: 5 });
    const consumerBus = newBus();
    try {
      const got: GenderPrediction[] = [];
      await consumerBus.subscribe(topic, { group: uniqueName('g') }, async (p) => void got.push(p));
      let peakQueued = 0;
      const sampler = setInterval(() => {
        peakQueued = Math.max(peakQueued, producerBus.stats().sendQueue?.queuedMessages ?? 0);
      }, 1);
      const sent = Array.from({ length: 300 }, (_, i) => prediction(`p-${i}`, 'one-camera', i));
      await Promise.all(sent.map((p) => producerBus.publish(topic, p)));
      clearInterval(sampler);
      const stats = producerBus.stats().sendQueue!;
      report(`send bound: 300 publishes, ${stats.waitedTotal} waited for room, peak queue ${peakQueued}`);
      expect(stats.waitedTotal).toBeGreaterThan(0);
      expect(peakQueued).toBeLessThanOrEqual(5);
      expect(stats).toMatchObject({ queuedMessages: 0, queuedBytes: 0, waiting: 0 });
      await waitFor('300 deliveries', () => got.length >= 300);
      // One camera, one partition: the order of the publishes is the order on the broker.
      expect(got.map((p) => p.predictionId)).toEqual(sent.map((p) => p.predictionId));
    } finally {
      await Promise.allSettled([producerBus.close(), consumerBus.close()]);
    }
  });
});
