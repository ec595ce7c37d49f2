import { defineProject } from 'vitest/config';

// 'corral-source' makes workspace packages resolve to their TypeScript source, so tests need no build.
const conditions = ['corral-source', 'node', 'development|production'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'e2e',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // One `corral start` for the whole run (test/global-setup.ts); booting it can take a while.
    globalSetup: ['test/global-setup.ts'],
    // Files share that one stack; the browser journey slows the simulator down while it runs.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
