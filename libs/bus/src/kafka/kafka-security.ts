/**
 * TLS and SASL for the Kafka bus.
 *
 * kafkajs takes both as plain options, but left alone it reports a broker
 * certificate it does not trust as a retriable connection error (minutes of
 * retries ending in "Connection error: self-signed certificate") and a failed
 * login as a bare "SASL PLAIN authentication failed". This file reads the PEM
 * files once at startup, shakes hands with each bootstrap broker once before
 * kafkajs connects, so an untrusted certificate fails at once, and turns both
 * kinds of failure into a `KafkaSecurityError` that names the setting to
 * check. The SASL password and the client key never leave it: everything the
 * bus logs or throws is scrubbed of them.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect as tlsConnect, createSecureContext, type ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import type { BusLogger } from './kafkajs-logger';

export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaSaslOptions {
  readonly mechanism: KafkaSaslMechanism;
  readonly username: string;
  readonly password: string;
}

/** TLS to the brokers with PEM contents (not paths: see readKafkaTlsFiles). No `ca` = the system's CAs. */
export interface KafkaTlsOptions {
  readonly ca?: string;
  /** Client certificate and key, for brokers that require mutual TLS; always both or neither. */
  readonly cert?: string;
  readonly key?: string;
  /** Verify the brokers' certificates (default true). */
  readonly rejectUnauthorized?: boolean;
}

/** `bus.ssl` as configured: PEM file paths. */
export interface KafkaTlsFiles {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized?: boolean;
}

/** A broker refused us, or we refused it: retrying cannot help until the config or the broker changes. */
export class KafkaSecurityError extends Error {
  override readonly name = 'KafkaSecurityError';

  constructor(
    message: string,
    readonly kind: 'sasl' | 'tls',
    readonly broker?: string,
  ) {
    super(message);
  }
}

/**
 * Reads `bus.ssl`'s PEM files (at startup, not during config validation) and
 * checks they form a usable TLS context. Errors name the field and the path,
 * never a file's contents. `true` = TLS with the system's CAs.
 */
export function readKafkaTlsFiles(files: KafkaTlsFiles | boolean, field = 'bus.ssl'): KafkaTlsOptions | undefined {
  if (files === false) return undefined;
  if (files === true) return {};
  const read = (name: 'ca' | 'cert' | 'key'): string | undefined => {
    const path = files[name];
    if (path === undefined) return undefined;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why =
        e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : (e.code ?? 'error');
      throw new Error(`${field}.${name}: cannot read ${path} (${why})`);
    }
    if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) throw new Error(`${field}.${name}: ${path} is not a PEM file`);
    return text;
  };
  const tls: KafkaTlsOptions = {
    ca: read('ca'),
    cert: read('cert'),
    key: read('key'),
    rejectUnauthorized: files.rejectUnauthorized ?? true,
  };
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new Error(`${field}: cert and key go together (mutual TLS needs both)`);
  }
  try {
    // Node's messages here name what is wrong ("key values mismatch"), never the PEM itself.
    createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
  } catch (err) {
    const paths = (['ca', 'cert', 'key'] as const).flatMap((k) => (files[k] ? [files[k]] : [])).join(', ');
    throw new Error(`${field}: ${paths} do not form a usable TLS setup: ${tlsReason((err as Error).message)}`);
  }
  return tls;
}

/** kafkajs' `ssl` option: undefined = plaintext. */
export function kafkajsSsl(ssl: boolean | KafkaTlsOptions | undefined): ConnectionOptions | undefined {
  if (ssl === undefined || ssl === false) return undefined;
  if (ssl === true) return {};
  const options: ConnectionOptions = { rejectUnauthorized: ssl.rejectUnauthorized ?? true };
  if (ssl.ca !== undefined) options.ca = ssl.ca;
  if (ssl.cert !== undefined) options.cert = ssl.cert;
  if (ssl.key !== undefined) options.key = ssl.key;
  return options;
}

export function kafkajsSasl(sasl: KafkaSaslOptions | undefined): SASLOptions | undefined {
  if (!sasl) return undefined;
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

/** OpenSSL's verdicts on a broker certificate: a retry gets the same answer. */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function isFatalTlsCode(code: string | undefined): boolean {
  if (code === undefined) return false;
  // ERR_SSL_*: the handshake itself failed (a plaintext port, a broker alert such as "certificate required").
  return UNTRUSTED_CERTIFICATE.has(code) || code.startsWith('ERR_SSL_');
}

/** "8070…:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:…c:1601:…\n" -> "sslv3 alert bad certificate". */
function tlsReason(message: string): string {
  const line = message.trim().split('\n')[0]!;
  return /(?:^|:)error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)/.exec(line)?.[1] ?? line;
}

function tlsFailure(broker: string, code: string, message: string): KafkaSecurityError {
  const reason = tlsReason(message);
  const hint = UNTRUSTED_CERTIFICATE.has(code)
    ? 'the broker certificate is not trusted: check bus.ssl.ca (the CA that signed it) and that the certificate names this host'
    : code.includes('ALERT')
      ? 'the broker refused the session: if it requires a client certificate, check bus.ssl.cert and bus.ssl.key'
      : 'check bus.ssl, and that this broker address is a TLS listener';
  return new KafkaSecurityError(
    `Kafka TLS handshake with ${broker} failed: ${reason} (${code}); ${hint}`,
    'tls',
    broker,
  );
}

/**
 * A Kafka ApiVersions v0 request (size, api key 18, version 0, correlation
 * id 1, null client id). Any listener answers it, before any SASL login.
 */
const API_VERSIONS_REQUEST = Buffer.from([0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0xff, 0xff]);

/**
 * One TLS session with `broker` using the bus's options, carrying one
 * ApiVersions request: under TLS 1.3 a broker that wants a client
 * certificate says so only after the handshake, when it reads our first
 * bytes. Resolves on the broker's answer, or when the attempt fails for a
 * reason kafkajs' retries may outlast (the broker is down or slow); rejects
 * with a KafkaSecurityError when the certificate or the handshake is refused.
 */
export function probeTls(broker: string, ssl: ConnectionOptions, timeoutMs: number): Promise<void> {
  const { host, port } = splitBroker(broker);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl });
    const finish = (err?: KafkaSecurityError): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(), timeoutMs);
    socket.once('secureConnect', () => socket.write(API_VERSIONS_REQUEST));
    socket.once('data', () => finish());
    socket.once('close', () => finish());
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish(isFatalTlsCode(err.code) ? tlsFailure(broker, err.code!, err.message) : undefined),
    );
  });
}

function splitBroker(broker: string): { host: string; port: number } {
  const i = broker.lastIndexOf(':');
  const host = broker.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(broker.slice(i + 1)) };
}

/** Errors kafkajs raised, through their causes (its retrier wraps what it gives up on). */
function* causes(err: unknown): Generator<Error & { code?: string; broker?: string }> {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    yield e;
  }
}

/**
 * The KafkaSecurityError a kafkajs failure amounts to, or null when it is
 * something else (an outage, a timeout: retrying may help).
 */
export function asSecurityError(
  err: unknown,
  context: { readonly brokers: readonly string[]; readonly sasl?: KafkaSaslOptions },
): KafkaSecurityError | null {
  for (const e of causes(err)) {
    if (e instanceof KafkaSecurityError) return e;
    if (e.name === 'KafkaJSSASLAuthenticationError') {
      const who = context.sasl
        ? `user "${context.sasl.username}" (${context.sasl.mechanism.toUpperCase()})`
        : 'a client without bus.sasl';
      return new KafkaSecurityError(
        `Kafka SASL authentication failed for ${who} at ${context.brokers.join(',')}: ${e.message}; check bus.sasl (mechanism, username, password)`,
        'sasl',
      );
    }
    if (e.name === 'KafkaJSConnectionError' && isFatalTlsCode(e.code)) {
      return tlsFailure(e.broker ?? context.brokers.join(','), e.code!, e.message.replace(/^Connection error: /, ''));
    }
  }
  return null;
}

/** Replaces every secret, raw or as it reads inside a JSON string, with `***`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    out = out.split(secret).join('***');
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) out = out.split(escaped).join('***');
  }
  return out;
}

/** A logger that scrubs `secrets` from every message and field before `logger` sees them. */
export function scrubbingLogger(logger: BusLogger, secrets: readonly string[]): BusLogger {
  if (secrets.length === 0) return logger;
  const scrub =
    (level: keyof BusLogger) =>
    (obj: object, msg?: string): void => {
      let fields: object;
      try {
        const json = JSON.stringify(obj, errorsAsText);
        const clean = scrubSecrets(json, secrets);
        fields = clean === json ? obj : (JSON.parse(clean) as object);
      } catch {
        // Not serialisable (a cycle): it cannot be checked, so it is not logged.
        fields = { fieldsDropped: 'not serialisable' };
      }
      logger[level](fields, msg === undefined ? undefined : scrubSecrets(msg, secrets));
    };
  return { debug: scrub('debug'), info: scrub('info'), warn: scrub('warn'), error: scrub('error') };
}

/** JSON.stringify drops an Error's message and stack (not enumerable); a logged error must still be scrubbed. */
function errorsAsText(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
}

/** The secrets a bus with these options must never log or throw. */
export function secretsOf(sasl: KafkaSaslOptions | undefined, ssl: boolean | KafkaTlsOptions | undefined): string[] {
  const secrets: string[] = [];
  if (sasl?.password) secrets.push(sasl.password);
  if (typeof ssl === 'object' && ssl.key) secrets.push(ssl.key);
  return secrets;
}
