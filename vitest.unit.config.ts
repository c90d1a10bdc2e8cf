import { defineConfig } from 'vitest/config';
import base from './vitest.config';

// The fast tier (`npm run test:unit`): the *.spec.ts files next to the code, adapters mocked or in
// memory. No build, no Kafka, PostgreSQL, ffmpeg or browser, so no global setup to start or stop
// them, and files run in parallel. `npm test` runs these too, with everything else.
// Spread, not mergeConfig: that would append to the full suite's include and globalSetup lists.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['apps/**/*.spec.ts', 'libs/**/*.spec.ts'],
    globalSetup: [],
    fileParallelism: true,
  },
});
