import { defineConfig } from 'vitest/config';

/** A slow or busy machine: `TAILSHIP_TEST_TIME_FACTOR=3 npm test` (test/helpers/time.ts). */
const factor = Math.max(1, Number(process.env.TAILSHIP_TEST_TIME_FACTOR) || 1);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The process tuning bin/tailship.js applies, so that tests run what ships.
    setupFiles: ['test/helpers/process-tuning.ts'],
    testTimeout: 60_000 * factor,
    hookTimeout: 60_000 * factor,
    // Integration tests spawn daemons and servers; two cores, so keep file parallelism modest.
    maxWorkers: 2,
  },
});
