/**
 * The reliability suite (`npm run test:reliability`): crash, outage, fuzz, storage, load and
 * security tests run as an operator would (real daemon processes, real files, the strict fake
 * Mattermost, 127.0.0.1 only). Every loop is bounded and seeded; each test prints its figures.
 * Files run one after another: several of them load both cores.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/reliability/**/*.test.ts'],
    exclude: ['**/node_modules/**', '.cache/**'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
