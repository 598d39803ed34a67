import { defineConfig } from 'vitest/config';

/**
 * `npm run test:scale`: tests that need minutes and about 16 GB of memory (kept out of
 * the default suite, whose pattern is `*.test.ts`).
 */
export default defineConfig({
  test: {
    include: ['test/**/*.scale.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 30 * 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
