/**
 * vitest globalSetup: the run takes a lease on the shared test servers, and
 * at the end stops the Kafka broker and PostgreSQL server that tests started
 * (unless another test run still uses them). CROWDLENS_TEST_KEEP_SERVERS=1
 * leaves them running, for repeated runs of one file.
 */
import { releaseLease, takeLease } from './test-servers';

export function setup(): () => Promise<void> {
  takeLease();
  return async () => {
    if (process.env.CROWDLENS_TEST_KEEP_SERVERS === '1') return;
    for (const line of await releaseLease()) process.stderr.write(`${line}\n`);
  };
}
