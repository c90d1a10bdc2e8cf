/**
 * Where a new "latest" consumer group starts.
 *
 * Kafka's own "latest" reset happens lazily, at a member's first fetch: a
 * message published between `subscribe` resolving and that fetch would be
 * skipped, and so would everything on a partition that changes hands before
 * its first commit. So a group that has no members and partitions it never
 * committed gets the end offsets as of now committed as its start, before
 * the real member joins. (Not with a seek after joining: kafkajs keeps a seek
 * for a partition this member loses before its next fetch, and applies it
 * whenever the partition comes back — rewinding the group to its start.)
 * A group with running members is left alone: they pinned it when it
 * began; only partitions added to the topic since start at "latest".
 * Costs one join and leave, once in a group's life.
 */
import type { Topic } from '@crowdlens/contracts';
import type { Consumer, ConsumerConfig } from 'kafkajs';
import type { BusLogger } from './kafkajs-logger';

/** The slice of a kafkajs consumer the pin drives. */
export type PinConsumer = Pick<
  Consumer,
  'connect' | 'subscribe' | 'describeGroup' | 'on' | 'events' | 'run' | 'pause' | 'seek' | 'disconnect'
>;

export interface GroupPinDeps {
  readonly uncommittedPartitions: (topic: Topic, groupId: string) => Promise<Set<number>>;
  readonly endOffsets: (topic: Topic) => Promise<Array<{ partition: number; offset: string }>>;
  readonly createConsumer: (config: ConsumerConfig) => PinConsumer;
  readonly logger: BusLogger;
}

export interface GroupPinOptions {
  /** The whole pin (join, seek, first fetch) past this is abandoned: the group then starts at "latest" lazily. */
  readonly timeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly retry: ConsumerConfig['retry'];
}

export type PinOutcome = 'pinned' | 'not-needed' | 'group-running' | 'failed';

/** Never throws: a failed or timed-out pin costs only the lazy "latest" described above. */
export async function pinNewGroup(
  deps: GroupPinDeps,
  topic: Topic,
  groupId: string,
  options: GroupPinOptions,
): Promise<PinOutcome> {
  let pinner: PinConsumer | null = null;
  let abandoned = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const work = (async (): Promise<PinOutcome> => {
      const missing = await deps.uncommittedPartitions(topic, groupId);
      if (missing.size === 0) return 'not-needed';
      const partitions = (await deps.endOffsets(topic)).filter((e) => missing.has(e.partition));
      if (abandoned) return 'failed';
      // What kafkajs' admin.setOffsets does — a member that joins, seeks (kafkajs commits a seek
      // before its first fetch) and leaves — with a short fetch wait: setOffsets' member idles for
      // kafkajs' default 5 s before that first fetch completes.
      const consumer = deps.createConsumer({
        groupId,
        maxWaitTimeInMs: 100,
        sessionTimeout: options.sessionTimeoutMs,
        rebalanceTimeout: options.rebalanceTimeoutMs,
        heartbeatInterval: options.heartbeatIntervalMs,
        allowAutoTopicCreation: false,
        retry: options.retry,
      });
      pinner = consumer;
      await consumer.connect();
      await consumer.subscribe({ topic: topic.name, fromBeginning: true });
      const { state } = await consumer.describeGroup();
      // Members are running (or pinning right now): the group's start is theirs.
      if (state !== 'Empty' && state !== 'Dead') return 'group-running';
      await new Promise<void>((resolve, reject) => {
        consumer.on(consumer.events.FETCH, () => resolve());
        consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
        consumer.run({ eachBatchAutoResolve: false, eachBatch: async () => undefined }).catch(reject);
        // It must not consume anything; the seeks are applied (committed) all the same.
        consumer.pause([{ topic: topic.name }]);
        for (const p of partitions) consumer.seek({ topic: topic.name, ...p });
      });
      deps.logger.debug({ topic: topic.name, groupId, partitions }, 'kafka: new consumer group starts at the end');
      return 'pinned';
    })();
    // A pinner that never gets its first fetch (a group stuck rebalancing, a broker that
    // accepts the join and then stalls) must not hold `subscribe` forever.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`pinning the start of ${groupId} took over ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
    });
    work.catch(() => undefined); // settles after a timeout too; its error is the race's.
    return await Promise.race([work, timeout]);
  } catch (err) {
    deps.logger.warn(
      { topic: topic.name, groupId, err: (err as Error).message },
      'kafka: could not pin where a new consumer group starts',
    );
    return 'failed';
  } finally {
    abandoned = true;
    clearTimeout(timer);
    const p = pinner as PinConsumer | null;
    if (p) await p.disconnect().catch(() => undefined);
  }
}
