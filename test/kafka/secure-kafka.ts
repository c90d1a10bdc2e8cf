/**
 * A broker of the security test's own, started through deploy/kafka/start.sh
 * with three more listeners: SASL_PLAINTEXT (PLAIN, SCRAM-SHA-256/512), SSL
 * (server certificate only) and SASL_SSL (PLAIN, and the client must show a
 * certificate too). The CA, the certificates and the broker keystore are made
 * with openssl in a temp dir that goes away with the broker.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortPair, kafkaHome, listenOnce, startKafka, stopKafka } from '../support/kafka';

export interface Pki {
  /** PEM file of the test CA that signed the broker's and the client's certificates. */
  readonly ca: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

export interface SaslUser {
  readonly username: string;
  readonly password: string;
}

export class SecureKafka {
  private destroyed = false;

  private constructor(
    /** PLAINTEXT listener (KAFKA_PORT): the scripts' readiness check and the admin tools use it. */
    readonly port: number,
    readonly saslPlaintext: string[],
    readonly ssl: string[],
    readonly saslSsl: string[],
    readonly pki: Pki,
    /** PLAIN user, on SASL_PLAINTEXT and SASL_SSL. */
    readonly plainUser: SaslUser,
    /** SCRAM user (both SHA-256 and SHA-512 credentials), on SASL_PLAINTEXT. */
    readonly scramUser: SaslUser,
    readonly startMs: number,
    private readonly dir: string,
    private readonly env: Readonly<Record<string, string>>,
  ) {
    // A run that ends without destroy() (a crash, a timeout) must not leave a broker behind on a random port.
    process.once('exit', () => {
      if (this.destroyed) return;
      try {
        process.kill(Number(readFileSync(join(kafkaHome(), 'run', String(port), 'kafka.pid'), 'utf8')), 'SIGTERM');
      } catch {
        // Not running.
      }
    });
  }

  static async start(): Promise<SecureKafka> {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-kafka-security-'));
    const pki = makePki(join(dir, 'pki'));
    const plainUser = { username: 'alice', password: `alice-${randomBytes(9).toString('base64url')}` };
    const scramUser = { username: 'bob', password: `bob-${randomBytes(9).toString('base64url')}` };
    const port = await freePortPair();
    const [saslPort, sslPort, saslSslPort] = await freePorts(3, [port, port + 1]);
    const host = (p: number): string => `127.0.0.1:${p}`;
    const plainJaas = `org.apache.kafka.common.security.plain.PlainLoginModule required user_${plainUser.username}="${plainUser.password}";`;
    const scramJaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
    const extraConfig = join(dir, 'security.properties');
    writeFileSync(
      extraConfig,
      [
        'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
        `listener.name.sasl_plaintext.plain.sasl.jaas.config=${plainJaas}`,
        `listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=${scramJaas}`,
        `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${scramJaas}`,
        'listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN',
        `listener.name.sasl_ssl.plain.sasl.jaas.config=${plainJaas}`,
        'ssl.keystore.type=PKCS12',
        `ssl.keystore.location=${join(dir, 'pki', 'broker.p12')}`,
        `ssl.keystore.password=${KEYSTORE_PASSWORD}`,
        `ssl.key.password=${KEYSTORE_PASSWORD}`,
        'ssl.client.auth=none',
        'listener.name.sasl_ssl.ssl.client.auth=required',
        'listener.name.sasl_ssl.ssl.truststore.type=PEM',
        `listener.name.sasl_ssl.ssl.truststore.location=${pki.ca}`,
        '',
      ].join('\n'),
    );
    const env = {
      KAFKA_DATA_DIR: join(dir, 'data'),
      KAFKA_EXTRA_LISTENERS: [
        `SASL_PLAINTEXT://${host(saslPort!)}`,
        `SSL://${host(sslPort!)}`,
        `SASL_SSL://${host(saslSslPort!)}`,
      ].join(','),
      KAFKA_EXTRA_CONFIG: extraConfig,
      // SCRAM credentials live in the cluster metadata; set when the storage is formatted, they are there from the first request.
      KAFKA_FORMAT_ARGS: ['SCRAM-SHA-256', 'SCRAM-SHA-512']
        .map((m) => `--add-scram ${m}=[name=${scramUser.username},password=${scramUser.password}]`)
        .join(' '),
    };
    let started: { startMs: number };
    try {
      started = await startKafka(port, env);
    } catch (err) {
      await stopKafka(port, env).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return new SecureKafka(
      port,
      [host(saslPort!)],
      [host(sslPort!)],
      [host(saslSslPort!)],
      pki,
      plainUser,
      scramUser,
      started.startMs,
      dir,
      env,
    );
  }

  /** Stops the broker and deletes its data, keys and run directory. */
  async destroy(): Promise<void> {
    await stopKafka(this.port, this.env).catch(() => undefined);
    this.destroyed = true;
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(join(kafkaHome(), 'run', String(this.port)), { recursive: true, force: true });
  }
}

const KEYSTORE_PASSWORD = randomBytes(12).toString('hex');

/** A CA, a broker certificate for 127.0.0.1/localhost in a PKCS#12 keystore, and a client certificate. */
function makePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  const at = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=CrowdLens test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  const issue = (name: string, subject: string, extensions: string): void => {
    writeFileSync(at(`${name}.ext`), extensions);
    openssl('req', ...ec, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', subject);
    openssl(
      'x509',
      '-req',
      '-in',
      at(`${name}.csr`),
      '-CA',
      at('ca.pem'),
      '-CAkey',
      at('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      at(`${name}.ext`),
      '-out',
      at(`${name}.pem`),
    );
  };
  issue('broker', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue('client', '/CN=crowdlens-client', 'extendedKeyUsage=clientAuth\n');
  openssl(
    'pkcs12',
    '-export',
    '-in',
    at('broker.pem'),
    '-inkey',
    at('broker.key'),
    '-certfile',
    at('ca.pem'),
    '-name',
    'broker',
    '-out',
    at('broker.p12'),
    '-passout',
    `pass:${KEYSTORE_PASSWORD}`,
  );
  return { ca: at('ca.pem'), clientCert: at('client.pem'), clientKey: at('client.key') };
}

async function freePorts(n: number, taken: readonly number[]): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) {
    const port = await listenOnce(0);
    if (!taken.includes(port)) ports.add(port);
  }
  return [...ports];
}
