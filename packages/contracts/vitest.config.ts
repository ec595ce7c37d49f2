import { defineProject } from 'vitest/config';

// 'corral-source' makes workspace packages resolve to their TypeScript source, so tests need no build.
const conditions = ['corral-source', 'node', 'development|production'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'contracts',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
