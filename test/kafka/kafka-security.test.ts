/**
 * KafkaBus over TLS and SASL against a real Apache Kafka 4 broker of this
 * file's own (secure-kafka.ts): SASL_PLAINTEXT with PLAIN and SCRAM, SSL with
 * a test CA, SASL_SSL with a client certificate. Buses are built the way the
 * apps build them — config (file fields or environment) through the bus
 * factory, logging through the process logger — and every log line they
 * write is captured to prove the secrets never reach it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DestinationStream } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GENDER_PREDICTIONS_TOPIC, type GenderPrediction } from '@crowdlens/contracts';
import { KafkaSecurityError, type MessageBus } from '@crowdlens/bus';
import { loadConfig, parseConfig } from '@crowdlens/config';
import { createLogger } from '@crowdlens/runtime';
import { createMessageBus } from '../../libs/common/src/nest/message-bus.factory';
import { uniqueName } from '../support/deploy-scripts';
import { uniqueTopic } from '../support/kafka';
import { report, waitFor } from '../support/wait';
import { prediction } from './messages';
import { SecureKafka } from './secure-kafka';

/** A refused login or certificate must be reported within this, not after minutes of retries. */
const FAIL_FAST_MS = 10_000;

describe('KafkaBus with TLS and SASL on a real broker', () => {
  let kafka: SecureKafka;
  const buses: MessageBus[] = [];
  const logLines: string[] = [];

  /** A bus from a `bus:` config section, through the same factory and logger the apps use. */
  const busFrom = async (bus: Record<string, unknown>): Promise<MessageBus> => {
    const config = parseConfig({ bus: { clientId: uniqueName('security-test'), partitions: 1, ...bus } });
    return track(await createMessageBus(config.bus, captureLogger()));
  };
  const track = (bus: MessageBus): MessageBus => {
    buses.push(bus);
    return bus;
  };
  const captureLogger = () => {
    const destination: DestinationStream = { write: (line: string) => void logLines.push(line) };
    return createLogger('debug', 'security-test', destination);
  };

  /** Subscribe, publish one message, see it delivered: proves connect, topic creation, produce, group join and fetch. */
  const roundTrip = async (bus: MessageBus, label: string): Promise<void> => {
    const topic = uniqueTopic(GENDER_PREDICTIONS_TOPIC, `security-${label}`);
    const got: GenderPrediction[] = [];
    await bus.subscribe(topic, { group: uniqueName('g'), fromBeginning: true }, async (p) => void got.push(p));
    const sent = prediction(uniqueName('p'), 'cam-secure');
    await bus.publish(topic, sent);
    await waitFor(`the ${label} message`, () => got.length === 1, 30_000);
    expect(got[0]).toEqual(sent);
  };

  const expectNoSecretsLogged = (...secrets: string[]): void => {
    expect(logLines.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      for (const line of logLines) expect(line).not.toContain(secret);
    }
  };

  beforeAll(async () => {
    kafka = await SecureKafka.start();
    report(`secured kafka broker started in ${kafka.startMs} ms`);
  });

  afterEach(async () => {
    await Promise.allSettled(buses.splice(0).map((b) => b.close()));
    logLines.length = 0;
  });

  afterAll(async () => {
    await kafka?.destroy();
  });

  it('round-trips over SASL_PLAINTEXT with PLAIN credentials, warning that the password travels in clear', async () => {
    const { username, password } = kafka.plainUser;
    const bus = await busFrom({
      type: 'kafka',
      brokers: kafka.saslPlaintext,
      sasl: { mechanism: 'plain', username, password },
    });
    await roundTrip(bus, 'plain');
    expect(logLines.some((l) => l.includes('SASL PLAIN without TLS'))).toBe(true);
    expectNoSecretsLogged(password);
  });

  it.each(['scram-sha-256', 'scram-sha-512'] as const)('round-trips with %s credentials', async (mechanism) => {
    const { username, password } = kafka.scramUser;
    const bus = await busFrom({ type: 'kafka', brokers: kafka.saslPlaintext, sasl: { mechanism, username, password } });
    await roundTrip(bus, mechanism);
    expectNoSecretsLogged(password);
  });

  it('refuses a wrong password at once with an error naming the user and bus.sasl, never the password', async () => {
    const wrong = `not-${kafka.plainUser.password}`;
    // The password from the environment, as a deployment would keep it out of the YAML file.
    const config = loadConfig({
      CROWDLENS_KAFKA_BROKERS: kafka.saslPlaintext.join(','),
      CROWDLENS_KAFKA_SASL_MECHANISM: 'plain',
      CROWDLENS_KAFKA_SASL_USERNAME: kafka.plainUser.username,
      CROWDLENS_KAFKA_SASL_PASSWORD: wrong,
    });
    const bus = track(await createMessageBus(config.bus, captureLogger()));
    const topic = uniqueTopic(GENDER_PREDICTIONS_TOPIC, 'security-denied');

    const started = Date.now();
    const err = await bus.publish(topic, prediction('p-denied', 'cam-secure')).then(
      () => null,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    report(`wrong SASL password reported after ${elapsed} ms`);

    expect(err).toBeInstanceOf(KafkaSecurityError);
    const message = (err as Error).message;
    expect(message).toContain(`Kafka SASL authentication failed for user "${kafka.plainUser.username}" (PLAIN)`);
    expect(message).toContain('check bus.sasl');
    expect(message).not.toContain(wrong);
    expect(elapsed).toBeLessThan(FAIL_FAST_MS);
    // A subscriber gets the same answer, from memory: the broker is not asked again right away.
    const again = Date.now();
    await expect(bus.subscribe(topic, { group: 'g-denied' }, async () => undefined)).rejects.toThrow(
      /SASL authentication failed/,
    );
    expect(Date.now() - again).toBeLessThan(1_000);
    // kafkajs' own account of the refusal is in the log; the password is not.
    expect(logLines.some((l) => l.includes('authentication failed'))).toBe(true);
    expectNoSecretsLogged(wrong);
  });

  it('round-trips over TLS trusting the CA from bus.ssl.ca', async () => {
    const bus = await busFrom({ type: 'kafka', brokers: kafka.ssl, ssl: { ca: kafka.pki.ca } });
    await roundTrip(bus, 'tls');
  });

  it('fails at once, naming bus.ssl.ca, when the broker certificate is not trusted', async () => {
    // System CAs only (ssl: true), which do not include the test CA; rejectUnauthorized is on by default.
    const bus = await busFrom({ type: 'kafka', brokers: kafka.ssl, ssl: true });
    const topic = uniqueTopic(GENDER_PREDICTIONS_TOPIC, 'security-untrusted');
    const started = Date.now();
    const err = await bus
      .subscribe(topic, { group: uniqueName('g') }, async () => undefined)
      .then(
        () => null,
        (e: unknown) => e,
      );
    const elapsed = Date.now() - started;
    report(`untrusted broker certificate reported after ${elapsed} ms`);

    expect(err).toBeInstanceOf(KafkaSecurityError);
    expect((err as KafkaSecurityError).kind).toBe('tls');
    const message = (err as Error).message;
    expect(message).toContain(`Kafka TLS handshake with ${kafka.ssl[0]} failed`);
    expect(message).toContain('SELF_SIGNED_CERT_IN_CHAIN');
    expect(message).toContain('check bus.ssl.ca');
    expect(elapsed).toBeLessThan(FAIL_FAST_MS);
  });

  it('round-trips over SASL_SSL with a client certificate (mutual TLS) and PLAIN, logging neither secret', async () => {
    const { username, password } = kafka.plainUser;
    const bus = await busFrom({
      type: 'kafka',
      brokers: kafka.saslSsl,
      ssl: { ca: kafka.pki.ca, cert: kafka.pki.clientCert, key: kafka.pki.clientKey },
      sasl: { mechanism: 'plain', username, password },
    });
    await roundTrip(bus, 'mtls');
    expect(logLines.some((l) => l.includes('SASL PLAIN without TLS'))).toBe(false);
    const keyBody = readFileSync(kafka.pki.clientKey, 'utf8').split('\n')[1]!;
    expectNoSecretsLogged(password, keyBody);
  });

  it('fails at once when the broker requires a client certificate and the bus has none', async () => {
    const { username, password } = kafka.plainUser;
    const bus = await busFrom({
      type: 'kafka',
      brokers: kafka.saslSsl,
      ssl: { ca: kafka.pki.ca },
      sasl: { mechanism: 'plain', username, password },
    });
    const started = Date.now();
    const err = await bus.publish(uniqueTopic(GENDER_PREDICTIONS_TOPIC, 'security-nocert'), prediction('p', 'c')).then(
      () => null,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    report(`missing client certificate reported after ${elapsed} ms`);
    expect(err).toBeInstanceOf(KafkaSecurityError);
    expect((err as Error).message).toContain(`Kafka TLS handshake with ${kafka.saslSsl[0]} failed`);
    expect((err as Error).message).toContain('check bus.ssl.cert and bus.ssl.key');
    expect(elapsed).toBeLessThan(FAIL_FAST_MS);
  });

  it('a missing or mismatched PEM file is a startup error naming the field and the path', async () => {
    const start = (ssl: Record<string, unknown>) =>
      createMessageBus(parseConfig({ bus: { type: 'kafka', brokers: kafka.ssl, ssl } }).bus, captureLogger());
    await expect(start({ ca: '/nonexistent/ca.pem' })).rejects.toThrow(
      'bus.ssl.ca: cannot read /nonexistent/ca.pem (no such file)',
    );
    const otherKey = join(dirname(kafka.pki.ca), 'broker.key');
    await expect(start({ ca: kafka.pki.ca, cert: kafka.pki.clientCert, key: otherKey })).rejects.toThrow(
      `bus.ssl: ${kafka.pki.ca}, ${kafka.pki.clientCert}, ${otherKey} do not form a usable TLS setup: key values mismatch`,
    );
  });
});
