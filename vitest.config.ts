import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'ui/**/*.test.ts', 'mattermost-plugin/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/conformance/**', 'test/reliability/**'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
