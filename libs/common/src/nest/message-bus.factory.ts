import { hostname } from 'node:os';
import { registerSecret, type BusConfig } from '@crowdlens/config';
import { InMemoryBus, type MessageBus } from '@crowdlens/bus';
import type { Logger } from 'pino';

/** Who this process is, for the broker's tools: which role, on which host, which process. */
export interface BusClientIdentity {
  readonly role: string;
  readonly host: string;
  readonly pid: number;
}

/**
 * The Kafka client id of this process: `bus.clientId` plus role, host and
 * pid, so `kafka.sh consumer-groups --describe` tells the members of a group
 * apart (every process was `crowdlens` from the same host before).
 */
export function kafkaClientId(base: string, who: BusClientIdentity): string {
  return `${base}-${who.role}-${who.host}-${who.pid}`;
}

type BusFactory<C extends BusConfig> = (config: C, logger: Logger, who: BusClientIdentity) => Promise<MessageBus>;

/** Bus backends keyed by config `type`; the config schema makes an unknown type a boot error. */
const BUS_FACTORIES: { [K in BusConfig['type']]: BusFactory<Extract<BusConfig, { type: K }>> } = {
  memory: async (config, logger) =>
    new InMemoryBus({
      queueCapacity: config.queueCapacity,
      onError: (error, ctx) => logger.warn({ ...ctx, err: error.message }, 'message dead-lettered'),
    }),
  kafka: async (config, logger, who) => {
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
    return new KafkaBus({
      ...rest,
      clientId: kafkaClientId(rest.clientId, who),
      ssl,
      tuning,
      logger: logger.child({ component: 'kafka' }),
    });
  },
};

export function createMessageBus(
  config: BusConfig,
  logger: Logger,
  who: BusClientIdentity = { role: 'embedded', host: hostname(), pid: process.pid },
): Promise<MessageBus> {
  const factory = BUS_FACTORIES[config.type] as BusFactory<BusConfig>;
  return factory(config, logger, who);
}
