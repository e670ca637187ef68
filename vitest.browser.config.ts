import { defineConfig } from 'vitest/config';

// Browser end-to-end tests: the playground in Debian's Chromium through playwright-core. scripts/test.mjs runs this
// config only when /usr/bin/chromium (or CHROMIUM_PATH) exists and says why it skipped it otherwise.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    // Same simulator certificate trust as the main suite (NODE_EXTRA_CA_CERTS before workers fork).
    globalSetup: ['test/setup/global-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One browser at a time: the machine has two cores and Chromium wants both.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
