import 'reflect-metadata';
import { ConfigError, loadConfig } from '@crowdlens/config';
import { createLogger } from '@crowdlens/common';
import { startCrowdLens } from './bootstrap';
import { withDemoCamera } from './demo-camera';

async function main(): Promise<void> {
  let config;
  try {
    config = withDemoCamera(loadConfig());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const running = await startCrowdLens(config, logger);
  // Also outside the JSON log, where a person starting it by hand sees it.
  if (running.warning) process.stderr.write(`\n  WARNING: ${running.warning}\n`);
  if (config.role === 'embedded' || config.role === 'analytics') {
    process.stdout.write(`\n  CrowdLens dashboard: ${running.url.replace('127.0.0.1', 'localhost')}/\n\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `CrowdLens failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
