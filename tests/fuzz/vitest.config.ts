import { defineProject } from 'vitest/config';

// 'corral-source' makes workspace packages resolve to their TypeScript source, so tests need no build.
const conditions = ['corral-source', 'node', 'development|production'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'fuzz',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // One shared stack (real processes) for the bad-input files; fault files start their own.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
