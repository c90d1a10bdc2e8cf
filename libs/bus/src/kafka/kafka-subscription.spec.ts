import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GENDER_PREDICTIONS_TOPIC } from '@crowdlens/contracts';
import type { Consumer } from 'kafkajs';
import { SILENT_LOGGER } from './kafkajs-logger';
import { KafkaSubscription } from './kafka-subscription';
import { GroupCounters } from './message-delivery';

const EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CRASH: 'consumer.crash',
  FETCH_START: 'consumer.fetch_start',
};

/** A kafkajs consumer's surface, recording calls; `crash()` emits what kafkajs emits when it gives up. */
function fakeConsumer() {
  const calls: string[] = [];
  const emitter = new EventEmitter();
  const consumer = {
    events: EVENTS,
    on: (event: string, listener: (e: unknown) => void) => {
      emitter.on(event, listener);
      return () => emitter.off(event, listener);
    },
    connect: async () => void calls.push('connect'),
    subscribe: async () => void calls.push('subscribe'),
    run: async () => {
      calls.push('run');
      emitter.emit(EVENTS.GROUP_JOIN, {
        payload: { memberId: 'm', memberAssignment: { [GENDER_PREDICTIONS_TOPIC.name]: [0] } },
      });
    },
    disconnect: async () => void calls.push('disconnect'),
  } as unknown as Consumer;
  const crash = (error: Error, restart: boolean) =>
    emitter.emit(EVENTS.CRASH, { payload: { error, groupId: 'g', restart } });
  return { consumer, calls, crash };
}

function coordinatorNotFound(): Error {
  const err = new Error('Failed to find group coordinator');
  err.name = 'KafkaJSGroupCoordinatorNotFound';
  return err;
}

async function started(shouldRestart: (err: Error) => boolean = () => true) {
  const fake = fakeConsumer();
  const subscription = new KafkaSubscription(
    fake.consumer,
    GENDER_PREDICTIONS_TOPIC,
    { group: 'analytics' },
    new GroupCounters(),
    async () => undefined,
    SILENT_LOGGER,
    shouldRestart,
  );
  await subscription.start(1, 1_000, 5_000);
  fake.calls.length = 0;
  return { ...fake, subscription };
}

describe('KafkaSubscription after a crash kafkajs does not restart from', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts the consumer again itself (a broker restart left no group coordinator for a moment)', async () => {
    vi.useFakeTimers();
    const { calls, crash, subscription } = await started();
    crash(coordinatorNotFound(), false);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toEqual(['connect', 'subscribe', 'run']);
    expect(subscription.restarts).toBe(1);
  });

  it('keeps trying, with growing delays, while the restart itself fails', async () => {
    vi.useFakeTimers();
    const { consumer, calls, crash, subscription } = await started();
    let failures = 2;
    const connect = consumer.connect.bind(consumer);
    consumer.connect = async () => {
      if (failures-- > 0) {
        calls.push('connect failed');
        throw new Error('connect ECONNREFUSED');
      }
      return connect();
    };
    crash(coordinatorNotFound(), false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual(['connect failed', 'connect failed', 'connect', 'subscribe', 'run']);
    expect(subscription.restarts).toBe(3);
  });

  it('leaves a crash kafkajs restarts itself, and one no restart can fix (credentials refused), alone', async () => {
    vi.useFakeTimers();
    const retriable = await started();
    retriable.crash(new Error('KafkaJSNumberOfRetriesExceeded'), true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(retriable.calls).toEqual([]);

    const refused = await started(() => false);
    refused.crash(new Error('SASL authentication failed'), false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(refused.calls).toEqual([]);
  });

  it('does not restart a consumer whose subscription was closed meanwhile', async () => {
    vi.useFakeTimers();
    const { calls, crash, subscription } = await started();
    crash(coordinatorNotFound(), false);
    await subscription.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual(['disconnect']);
    expect(subscription.restarts).toBe(0);
  });
});
