import { defineConfig } from 'vitest/config';

// Unit tests sit next to the logic they pin (src/**/*.test.ts); integration and browser tests live in test/.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/browser/**', 'node_modules/**'],
    // Creates the simulator's TLS certificate and exports NODE_EXTRA_CA_CERTS before workers are forked.
    globalSetup: ['test/setup/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
