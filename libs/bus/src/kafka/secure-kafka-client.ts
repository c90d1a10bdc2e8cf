import type { ConnectionOptions } from 'node:tls';
import type { Topic } from '@crowdlens/contracts';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaBusOptions, KafkaBusTuning } from './kafka-bus-options';
import {
  KafkaSecurityError,
  asSecurityError,
  kafkajsSasl,
  kafkajsSsl,
  probeTls,
  scrubSecrets,
  scrubbingLogger,
  secretsOf,
} from './kafka-security';
import { SILENT_LOGGER, kafkajsLogCreator, type BusLogger } from './kafkajs-logger';

/**
 * The kafkajs client with TLS and SASL applied, and the gate every connect
 * of the bus (producer, admin, consumers) goes through: a certificate the bus
 * does not trust fails at once (kafkajs would retry it like an outage), and a
 * refused login or certificate becomes a KafkaSecurityError that names the
 * setting to check. Such a failure is answered from memory for one
 * `maxRetryTime`, so a caller publishing in a loop does not hammer the broker.
 * The password and the client key are scrubbed from everything logged or thrown.
 */
export class SecureKafkaClient {
  readonly kafka: Kafka;
  /** The bus's logger, scrubbing the secrets. */
  readonly logger: BusLogger;
  private readonly secrets: readonly string[];
  private readonly tls: ConnectionOptions | undefined;
  /** The TLS handshake check, once per bus (again after a try that could not reach any broker). */
  private tlsChecked: Promise<void> | null = null;
  private securityFailure: { readonly error: KafkaSecurityError; readonly until: number } | null = null;

  constructor(
    private readonly options: Pick<KafkaBusOptions, 'brokers' | 'clientId' | 'ssl' | 'sasl' | 'logger'>,
    private readonly tuning: KafkaBusTuning,
  ) {
    this.secrets = secretsOf(options.sasl, options.ssl);
    this.logger = scrubbingLogger(options.logger ?? SILENT_LOGGER, this.secrets);
    this.tls = kafkajsSsl(options.ssl);
    if (options.sasl?.mechanism === 'plain' && !this.tls) {
      this.logger.warn(
        { brokers: options.brokers, user: options.sasl.username },
        'kafka: SASL PLAIN without TLS sends the password in clear text; set bus.ssl',
      );
    }
    if (this.tls?.rejectUnauthorized === false) {
      this.logger.warn(
        { brokers: options.brokers },
        "kafka: bus.ssl.rejectUnauthorized is false: brokers' certificates are not verified",
      );
    }
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      ssl: this.tls,
      sasl: kafkajsSasl(options.sasl),
      connectionTimeout: tuning.connectionTimeoutMs,
      requestTimeout: tuning.requestTimeoutMs,
      retry: { ...tuning.retry },
      logLevel: logLevel.WARN,
      logCreator: kafkajsLogCreator(this.logger),
    });
  }

  /** Runs one kafkajs connect behind the TLS check and the remembered refusal. */
  async connect(connect: () => Promise<void>): Promise<void> {
    const failed = this.securityFailure;
    if (failed && Date.now() < failed.until) throw failed.error;
    try {
      await this.checkTls();
      await connect();
      this.securityFailure = null;
    } catch (err) {
      throw this.explain(err);
    }
  }

  /** The error a caller sees: a KafkaSecurityError where one applies (remembered), scrubbed of secrets in any case. */
  explain(err: unknown): unknown {
    const security = asSecurityError(err, this.options);
    if (security) {
      security.message = scrubSecrets(security.message, this.secrets);
      this.securityFailure = { error: security, until: Date.now() + this.tuning.retry.maxRetryTime };
      return security;
    }
    if (err instanceof Error && this.secrets.length > 0) err.message = scrubSecrets(err.message, this.secrets);
    return err;
  }

  /** kafkajs' restartOnFailure: never give up on a stream, unless the broker refused our credentials or certificate. */
  shouldRestart(topic: Topic, group: string, err: Error): boolean {
    const security = asSecurityError(err, this.options);
    if (!security) return true;
    this.logger.error(
      { topic: topic.name, group, err: scrubSecrets(security.message, this.secrets) },
      'kafka: consumer stopped: the broker refused its credentials or certificate',
    );
    return false;
  }

  private checkTls(): Promise<void> {
    const tls = this.tls;
    if (!tls) return Promise.resolve();
    this.tlsChecked ??= Promise.all(
      this.options.brokers.map((b) => probeTls(b, tls, this.tuning.connectionTimeoutMs)),
    ).then(
      () => undefined,
      (err: unknown) => {
        this.tlsChecked = null;
        throw err;
      },
    );
    return this.tlsChecked;
  }
}
