/**
 * The conformance suite against the real OpenClaw (`npm run test:conformance`). Slow by nature:
 * real installs (once, cached), real gateways and agent turns. Files run one after another so
 * two gateways never compete for the 2 cores.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/conformance/**/*.conformance.test.ts', 'test/conformance/**/*.test.ts'],
    exclude: ['**/node_modules/**', '.cache/**'],
    globalSetup: ['test/conformance/global-setup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 600_000,
  },
});
