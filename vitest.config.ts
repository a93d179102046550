import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files run in parallel; each uses its own tenant, ledger schema and Redis prefix.
    pool: 'forks',
    // In-process workers log through pino; tests that read logs set their own level.
    env: { LOG_LEVEL: 'error' },
  },
});
