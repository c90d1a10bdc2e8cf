import { registerSecret, type BusConfig } from '@crowdlens/config';
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
    const { readKafkaTlsFiles } = await import('@crowdlens/bus/kafka/kafka-security');
    const { sessionTimeoutMs, heartbeatIntervalMs, commitIntervalMs, ssl: sslFiles, ...rest } = config;
    const tuning = {
      ...(sessionTimeoutMs !== undefined ? { sessionTimeoutMs } : {}),
      ...(heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs } : {}),
      ...(commitIntervalMs !== undefined ? { commitIntervalMs } : {}),
    };
    // The PEM files are read here, at startup: a missing one is a boot error naming its path.
    const ssl = sslFiles === undefined ? undefined : readKafkaTlsFiles(sslFiles, 'bus.ssl');
    // From here on the process logger and every redacted error hide them too, not only the bus' own logs.
    registerSecret(config.sasl?.password);
    registerSecret(ssl?.key);
    return new KafkaBus({ ...rest, ssl, tuning, logger: logger.child({ component: 'kafka' }) });
  },
};

export function createMessageBus(config: BusConfig, logger: Logger): Promise<MessageBus> {
  const factory = BUS_FACTORIES[config.type] as BusFactory<BusConfig>;
  return factory(config, logger);
}
