import swc from 'unplugin-swc';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const lib = (name: string): string => resolve(__dirname, `libs/${name}/src`);

// SWC instead of esbuild: Nest's DI needs emitDecoratorMetadata, which esbuild cannot emit.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: {
      '@crowdlens/contracts': lib('contracts'),
      '@crowdlens/config': lib('config'),
      '@crowdlens/bus': lib('bus'),
      '@crowdlens/vision': lib('vision'),
      '@crowdlens/models': lib('models'),
      '@crowdlens/storage': lib('storage'),
      '@crowdlens/runtime': lib('runtime'),
      '@crowdlens/common': lib('common'),
      // The apps' public faces, for the embedded app that composes them.
      '@crowdlens/ingest': resolve(__dirname, 'apps/ingest/src'),
      '@crowdlens/inference': resolve(__dirname, 'apps/inference/src'),
      '@crowdlens/analytics': resolve(__dirname, 'apps/analytics/src'),
    },
  },
  test: {
    include: ['apps/**/*.spec.ts', 'libs/**/*.spec.ts', 'test/**/*.test.ts'],
    // Stops the Kafka broker and PostgreSQL server the tests started, once the run ends.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
