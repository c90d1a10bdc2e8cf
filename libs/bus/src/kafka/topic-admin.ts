import type { Topic } from '@crowdlens/contracts';
import { backoffDelay } from '@crowdlens/runtime/backoff';
import type { Admin } from 'kafkajs';
import type { KafkaBusOptions, KafkaBusTuning } from './kafka-bus-options';
import type { SecureKafkaClient } from './secure-kafka-client';

/**
 * Topic configs for a topic this bus creates. Crops are faces: besides the
 * short `retention.ms`, their segments roll every half retention period —
 * Kafka deletes a segment only once its newest message has expired, so
 * under steady traffic a crop would otherwise live until the segment fills
 * its 1 GiB or reaches the broker's 7-day `segment.ms`. A crop is then gone
 * at most ~1.5 retention periods (plus the broker's retention check
 * interval) after it was published.
 */
export function topicConfig(
  topic: Topic,
  options: Pick<KafkaBusOptions, 'retentionMs' | 'cropRetentionMs'>,
): Array<{ name: string; value: string }> {
  if (topic.contentType === 'application/json') {
    return [{ name: 'retention.ms', value: String(options.retentionMs) }];
  }
  return [
    { name: 'retention.ms', value: String(options.cropRetentionMs) },
    { name: 'segment.ms', value: String(Math.max(1_000, Math.floor(options.cropRetentionMs / 2))) },
  ];
}

/** The admin client of one bus: topic creation (once per topic) and the offset look-ups group pinning needs. */
export class TopicAdmin {
  private admin: Admin | null = null;
  private adminReady: Promise<Admin> | null = null;
  private readonly provisioned = new Map<string, Promise<void>>();

  constructor(
    private readonly client: SecureKafkaClient,
    private readonly options: Pick<KafkaBusOptions, 'partitions' | 'retentionMs' | 'cropRetentionMs'>,
    private readonly retry: KafkaBusTuning['retry'],
  ) {}

  /** Creates the topic once per bus (no auto-creation on the broker); an existing topic is kept as is. */
  ensureTopic(topic: Topic): Promise<void> {
    let ready = this.provisioned.get(topic.name);
    if (!ready) {
      ready = this.createTopic(topic).catch((err: unknown) => {
        this.provisioned.delete(topic.name);
        throw err;
      });
      this.provisioned.set(topic.name, ready);
    }
    return ready;
  }

  /** Partitions of `topic` the group has never committed an offset for. */
  async uncommittedPartitions(topic: Topic, groupId: string): Promise<Set<number>> {
    const [committed] = await this.call((admin) => admin.fetchOffsets({ groupId, topics: [topic.name] }));
    return new Set((committed?.partitions ?? []).filter((p) => p.offset === '-1').map((p) => p.partition));
  }

  /** Each partition's end offset (the offset the next message will get). */
  async endOffsets(topic: Topic): Promise<Array<{ partition: number; offset: string }>> {
    const ends = await this.call((admin) => admin.fetchTopicOffsets(topic.name));
    return ends.map((e) => ({ partition: e.partition, offset: e.high }));
  }

  async disconnect(): Promise<void> {
    if (this.admin) await this.admin.disconnect().catch(() => undefined);
  }

  private async createTopic(topic: Topic): Promise<void> {
    await this.create(topic);
    // A topic that exists is not yet usable everywhere: right after its creation (here, or by a
    // process starting beside this one, or when createTopics' retry found it made by its own
    // first try) a consumer's metadata request can still answer "does not host this
    // topic-partition", which fails kafkajs' subscribe outright. Wait until every partition has a leader.
    await this.call(async (a) => {
      const { topics } = await a.fetchTopicMetadata({ topics: [topic.name] });
      const partitions = topics.find((t) => t.name === topic.name)?.partitions ?? [];
      if (partitions.length === 0 || partitions.some((p) => p.leader < 0)) {
        throw Object.assign(new Error(`topic ${topic.name} has no leader yet`), { retriable: true });
      }
    });
  }

  private async create(topic: Topic): Promise<void> {
    // Asking first keeps the broker's "already exists" answer (logged by kafkajs) out of every start.
    const existing = await this.call((a) => a.listTopics());
    if (existing.includes(topic.name)) return;
    const configEntries = topicConfig(topic, this.options);
    const created = await this.call((a) =>
      a.createTopics({
        waitForLeaders: true,
        topics: [{ topic: topic.name, numPartitions: this.options.partitions, configEntries }],
      }),
    );
    if (created) {
      const config = Object.fromEntries(configEntries.map((e) => [e.name, e.value]));
      this.client.logger.info(
        { topic: topic.name, partitions: this.options.partitions, config },
        'kafka topic created',
      );
    }
  }

  /** kafkajs' admin does not retry a coordinator that is still loading (a broker just started); this does. */
  private async call<R>(work: (admin: Admin) => Promise<R>): Promise<R> {
    const { retries, initialRetryTime, maxRetryTime } = this.retry;
    for (let attempt = 0; ; attempt++) {
      try {
        return await work(await this.connect());
      } catch (err) {
        const retriable = (err as { retriable?: boolean }).retriable === true;
        if (!retriable || attempt >= retries) throw err;
        const delay = backoffDelay(attempt, { initialMs: initialRetryTime, maxMs: maxRetryTime, factor: 2, jitter: 0 });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private connect(): Promise<Admin> {
    if (!this.adminReady) {
      const admin = this.client.kafka.admin({ retry: { ...this.retry } });
      this.adminReady = this.client
        .connect(() => admin.connect())
        .then(
          () => {
            this.admin = admin;
            return admin;
          },
          (err: unknown) => {
            this.adminReady = null;
            throw err;
          },
        );
    }
    return this.adminReady;
  }
}
