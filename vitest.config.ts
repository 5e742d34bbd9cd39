import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Examples import 'millrace' as a user would; in this repo that is the source.
  resolve: {
    alias: [
      { find: /^millrace$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^millrace\/(s3|sql)$/, replacement: fileURLToPath(new URL('./src/entries/$1.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/servers.ts', 'test/setup/moto.ts', 'test/setup/postgres.ts'],
    // The pinned AWS SDK warns once per process about its future Node 22 requirement; tests need not.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Two cores: files run in parallel processes, each test file gets its own MILLRACE_HOME.
    pool: 'forks',
    maxWorkers: 2,
  },
});
