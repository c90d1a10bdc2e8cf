import type { BusConfig } from '@crowdlens/config';
import { InMemoryBus, type MessageBus } from '@crowdlens/bus';
import type { Logger } from 'pino';

type BusFactory<C extends BusConfig> = (config: C, logger: Logger) => Promise<MessageBus>;

/** Bus backends keyed by config `type`; the config schema makes an unknown type a boot error. */
const BUS_FACTORIES: { [K in BusConfig['type']]: BusFactory<Extract<BusConfig, { type: K }>> } = {
  memory: async (config, logger) =>
    new InMemoryBus({
      queueCapacity: config.queueCapacity,
      onError: (error, ctx) => logger.warn({ ...ctx, err: error.message }, 'message dead-lettered'),
    }),
  kafka: async (config, logger) => {
    // Loaded on demand: the embedded mode never needs kafkajs.
    const { KafkaBus } = await import('@crowdlens/bus/kafka/kafka-bus');
    const { sessionTimeoutMs, heartbeatIntervalMs, commitIntervalMs, ...rest } = config;
    const tuning = {
      ...(sessionTimeoutMs !== undefined ? { sessionTimeoutMs } : {}),
      ...(heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs } : {}),
      ...(commitIntervalMs !== undefined ? { commitIntervalMs } : {}),
    };
    return new KafkaBus({ ...rest, tuning, logger: logger.child({ component: 'kafka' }) });
  },
};

export function createMessageBus(config: BusConfig, logger: Logger): Promise<MessageBus> {
  const factory = BUS_FACTORIES[config.type] as BusFactory<BusConfig>;
  return factory(config, logger);
}
