import 'reflect-metadata';
import { loadConfig } from '@crowdlens/config';
import { createLogger } from '@crowdlens/runtime';
import { startCrowdLens } from './bootstrap';
import { describeBootFailure } from './boot-failure';
import { withDemoCamera } from './demo-camera';

async function main(): Promise<void> {
  const config = withDemoCamera(loadConfig());
  const logger = createLogger(config.logLevel);
  const running = await startCrowdLens(config, logger);
  // Also outside the JSON log, where a person starting it by hand sees it.
  if (running.warning) process.stderr.write(`\n  WARNING: ${running.warning}\n`);
  if (config.role === 'embedded' || config.role === 'analytics') {
    process.stdout.write(`\n  CrowdLens dashboard: ${running.url.replace('127.0.0.1', 'localhost')}/\n\n`);
  }
}

main().catch((err: unknown) => {
  const failure = describeBootFailure(err);
  process.stderr.write(failure.text);
  process.exit(failure.exitCode);
});
