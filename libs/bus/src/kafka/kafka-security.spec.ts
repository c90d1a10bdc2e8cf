import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  KafkaSecurityError,
  asSecurityError,
  kafkajsSasl,
  kafkajsSsl,
  readKafkaTlsFiles,
  scrubSecrets,
  scrubbingLogger,
} from './kafka-security';
import type { BusLogger } from './kafkajs-logger';

/** What kafkajs throws, by name and fields (its error classes are not exported). */
function kafkajsError(name: string, message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, ...fields });
}

const CONTEXT = {
  brokers: ['kafka-1:9093'],
  sasl: { mechanism: 'scram-sha-512', username: 'ingest', password: 'pa55-word' },
} as const;

describe('readKafkaTlsFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crowdlens-kafka-tls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('maps true to TLS with the system CAs and false to none', () => {
    expect(readKafkaTlsFiles(true)).toEqual({});
    expect(readKafkaTlsFiles(false)).toBeUndefined();
  });

  it('names the field and the path of a file it cannot read', () => {
    expect(() => readKafkaTlsFiles({ ca: join(dir, 'missing.pem') })).toThrow(
      `bus.ssl.ca: cannot read ${join(dir, 'missing.pem')} (no such file)`,
    );
    expect(() => readKafkaTlsFiles({ cert: dir, key: dir })).toThrow(`bus.ssl.cert: cannot read ${dir}`);
  });

  it('rejects a file that is not PEM, and a cert without its key', () => {
    const notPem = file('not.pem', 'hello');
    expect(() => readKafkaTlsFiles({ ca: notPem })).toThrow(`bus.ssl.ca: ${notPem} is not a PEM file`);
    const pem = file('cert.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(() => readKafkaTlsFiles({ cert: pem })).toThrow('bus.ssl: cert and key go together');
  });

  it('reports unusable PEM contents by path, never quoting the key', () => {
    const secretBody = 'c2VjcmV0LWtleS1tYXRlcmlhbC1uZXZlci1wcmludC1tZQ';
    const key = file('client.key', `-----BEGIN PRIVATE KEY-----\n${secretBody}\n-----END PRIVATE KEY-----\n`);
    const cert = file('client.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    let message = '';
    try {
      readKafkaTlsFiles({ cert, key });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`bus.ssl: ${cert}, ${key} do not form a usable TLS setup`);
    expect(message).not.toContain(secretBody);
  });
});

describe('kafkajs options', () => {
  it('passes TLS contents and verification through, plaintext as undefined', () => {
    expect(kafkajsSsl(undefined)).toBeUndefined();
    expect(kafkajsSsl(false)).toBeUndefined();
    expect(kafkajsSsl(true)).toEqual({});
    expect(kafkajsSsl({ ca: 'CA', rejectUnauthorized: false })).toEqual({ ca: 'CA', rejectUnauthorized: false });
    expect(kafkajsSsl({ cert: 'C', key: 'K' })).toEqual({ cert: 'C', key: 'K', rejectUnauthorized: true });
  });

  it('passes every SASL mechanism through', () => {
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      expect(kafkajsSasl({ mechanism, username: 'u', password: 'p' })).toEqual({
        mechanism,
        username: 'u',
        password: 'p',
      });
    }
    expect(kafkajsSasl(undefined)).toBeUndefined();
  });
});

describe('asSecurityError', () => {
  it('turns a refused login, however deeply kafkajs wrapped it, into an error naming the user and bus.sasl', () => {
    const refused = kafkajsError(
      'KafkaJSSASLAuthenticationError',
      'SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials',
    );
    const wrapped = kafkajsError('KafkaJSNonRetriableError', refused.message, { cause: refused });
    const err = asSecurityError(wrapped, CONTEXT);
    expect(err).toBeInstanceOf(KafkaSecurityError);
    expect(err!.kind).toBe('sasl');
    expect(err!.message).toMatch(
      /^Kafka SASL authentication failed for user "ingest" \(SCRAM-SHA-512\) at kafka-1:9093: SASL SCRAM SHA512 .*; check bus\.sasl/,
    );
    expect(err!.message).not.toContain(CONTEXT.sasl.password);
  });

  it('turns an untrusted broker certificate into a TLS error naming bus.ssl.ca', () => {
    const err = asSecurityError(
      kafkajsError('KafkaJSConnectionError', 'Connection error: self-signed certificate in certificate chain', {
        code: 'SELF_SIGNED_CERT_IN_CHAIN',
        broker: 'kafka-1:9093',
      }),
      CONTEXT,
    );
    expect(err?.kind).toBe('tls');
    expect(err?.message).toBe(
      'Kafka TLS handshake with kafka-1:9093 failed: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN); ' +
        'the broker certificate is not trusted: check bus.ssl.ca (the CA that signed it) and that the certificate names this host',
    );
  });

  it('leaves outages alone: retrying them may help', () => {
    expect(
      asSecurityError(
        kafkajsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED', { code: 'ECONNREFUSED' }),
        CONTEXT,
      ),
    ).toBeNull();
    expect(asSecurityError(kafkajsError('KafkaJSNumberOfRetriesExceeded', 'Connection timeout'), CONTEXT)).toBeNull();
    expect(asSecurityError('not an error', CONTEXT)).toBeNull();
  });
});

describe('secret scrubbing', () => {
  it('replaces a secret raw and as it reads inside JSON', () => {
    const secret = 'p"a\\ss\nword';
    expect(scrubSecrets(`login with ${secret}!`, [secret])).toBe('login with ***!');
    expect(scrubSecrets(JSON.stringify({ password: secret }), [secret])).toBe('{"password":"***"}');
    expect(scrubSecrets('nothing here', [secret])).toBe('nothing here');
  });

  it('scrubs messages, fields and logged errors before the logger sees them', () => {
    const seen: Array<{ obj: object; msg?: string }> = [];
    const sink: BusLogger = {
      debug: (obj, msg) => seen.push({ obj, msg }),
      info: (obj, msg) => seen.push({ obj, msg }),
      warn: (obj, msg) => seen.push({ obj, msg }),
      error: (obj, msg) => seen.push({ obj, msg }),
    };
    const logger = scrubbingLogger(sink, ['hunter2']);
    logger.warn({ sasl: { password: 'hunter2' }, err: new Error('bad hunter2') }, 'using hunter2');
    logger.info({ broker: 'b:1' }, 'clean');
    expect(JSON.stringify(seen)).not.toContain('hunter2');
    expect(seen[0]!.msg).toBe('using ***');
    expect(seen[0]!.obj).toMatchObject({ sasl: { password: '***' }, err: { message: 'bad ***' } });
    expect(seen[1]).toEqual({ obj: { broker: 'b:1' }, msg: 'clean' });
  });

  it('drops fields it cannot serialise rather than pass them unchecked', () => {
    const seen: object[] = [];
    const sink: BusLogger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (obj) => seen.push(obj),
      error: () => undefined,
    };
    const cyclic: Record<string, unknown> = { password: 'hunter2' };
    cyclic.self = cyclic;
    scrubbingLogger(sink, ['hunter2']).warn(cyclic, 'x');
    expect(seen).toEqual([{ fieldsDropped: 'not serialisable' }]);
  });
});
