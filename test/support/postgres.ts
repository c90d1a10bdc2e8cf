/**
 * A real PostgreSQL for tests: started once (deploy/postgres) and reused while
 * its port answers; each test gets its own database, dropped afterwards.
 */
import { Client } from 'pg';
import { envPort, portAnswers, runDeployScript, uniqueName } from './deploy-scripts';
import { markStartedByTests } from './test-servers';

export const TEST_POSTGRES_PORT = envPort('CROWDLENS_TEST_POSTGRES_PORT', 55432);

export interface PostgresInstance {
  readonly port: number;
  /** URL of the server's `crowdlens` database, trust auth as `postgres`. */
  readonly url: string;
}

let shared: Promise<PostgresInstance> | null = null;

export function ensurePostgres(): Promise<PostgresInstance> {
  shared ??= (async () => {
    const port = TEST_POSTGRES_PORT;
    if (!(await portAnswers(port))) {
      const { stdout } = await runDeployScript('postgres/start.sh', { POSTGRES_PORT: String(port) });
      process.stderr.write(stdout);
      markStartedByTests('postgres', port);
    } else {
      process.stderr.write(`postgres: reusing the server already answering on 127.0.0.1:${port}\n`);
    }
    return { port, url: urlFor(port, 'crowdlens') };
  })();
  return shared;
}

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const pg = await ensurePostgres();
  const name = uniqueName(`test_${label}`)
    .replace(/[^a-z0-9_]/gi, '_')
    .toLowerCase();
  await withAdmin(pg.url, (c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    name,
    url: urlFor(pg.port, name),
    drop: () =>
      withAdmin(pg.url, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

function urlFor(port: number, db: string): string {
  return `postgres://postgres@127.0.0.1:${port}/${db}`;
}

async function withAdmin<T>(url: string, work: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
