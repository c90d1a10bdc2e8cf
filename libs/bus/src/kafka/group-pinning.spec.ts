import { afterEach, describe, expect, it, vi } from 'vitest';
import { GENDER_PREDICTIONS_TOPIC } from '@crowdlens/contracts';
import type { ConsumerConfig } from 'kafkajs';
import { pinNewGroup, type GroupPinDeps, type PinConsumer } from './group-pinning';
import { SILENT_LOGGER } from './kafkajs-logger';

const OPTIONS = {
  timeoutMs: 5_000,
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  retry: { retries: 1 },
};

/** A pinner that joins an empty group and then never gets its first fetch (a group stuck rebalancing). */
function stuckConsumer(state = 'Empty') {
  const calls: string[] = [];
  const consumer = {
    events: { FETCH: 'consumer.fetch', CRASH: 'consumer.crash' },
    connect: async () => void calls.push('connect'),
    subscribe: async () => void calls.push('subscribe'),
    describeGroup: async () => ({ state }),
    on: () => () => undefined,
    run: () => new Promise<void>(() => undefined),
    pause: () => void calls.push('pause'),
    seek: (p: { partition: number; offset: string }) => void calls.push(`seek ${p.partition}@${p.offset}`),
    disconnect: async () => void calls.push('disconnect'),
  } as unknown as PinConsumer;
  return { consumer, calls };
}

function deps(consumer: PinConsumer, configs: ConsumerConfig[] = []): GroupPinDeps {
  return {
    uncommittedPartitions: async () => new Set([0, 1]),
    endOffsets: async () => [
      { partition: 0, offset: '7' },
      { partition: 1, offset: '9' },
      { partition: 2, offset: '3' },
    ],
    createConsumer: (config) => {
      configs.push(config);
      return consumer;
    },
    logger: SILENT_LOGGER,
  };
}

describe('pinNewGroup', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives up after timeoutMs when the pinner never fetches, and disconnects it', async () => {
    vi.useFakeTimers();
    const { consumer, calls } = stuckConsumer();
    let outcome: string | null = null;
    const pin = pinNewGroup(deps(consumer), GENDER_PREDICTIONS_TOPIC, 'g.topic', OPTIONS).then((o) => (outcome = o));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(outcome).toBeNull();
    // It seeks only the partitions the group never committed, to their end offsets.
    expect(calls).toEqual(['connect', 'subscribe', 'pause', 'seek 0@7', 'seek 1@9']);
    await vi.advanceTimersByTimeAsync(1);
    await pin;
    expect(outcome).toBe('failed');
    expect(calls.at(-1)).toBe('disconnect');
  });

  it('leaves a group with running members alone', async () => {
    const { consumer, calls } = stuckConsumer('Stable');
    expect(await pinNewGroup(deps(consumer), GENDER_PREDICTIONS_TOPIC, 'g.topic', OPTIONS)).toBe('group-running');
    expect(calls).toEqual(['connect', 'subscribe', 'disconnect']);
  });

  it('does nothing for a group that committed every partition', async () => {
    const { consumer } = stuckConsumer();
    const configs: ConsumerConfig[] = [];
    const d = { ...deps(consumer, configs), uncommittedPartitions: async () => new Set<number>() };
    expect(await pinNewGroup(d, GENDER_PREDICTIONS_TOPIC, 'g.topic', OPTIONS)).toBe('not-needed');
    expect(configs).toEqual([]);
  });
});
