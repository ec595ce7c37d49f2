import react from '@vitejs/plugin-react';
import { defineProject } from 'vitest/config';

// 'corral-source' makes workspace packages resolve to their TypeScript source, so tests need no build.
const conditions = ['corral-source', 'node', 'development|production'];

// Server tests run in node; component tests opt into jsdom with a `@vitest-environment jsdom` docblock.
export default defineProject({
  plugins: [react()],
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'web',
    include: ['src/**/*.test.{ts,tsx}', 'server/**/*.test.ts', 'test/**/*.test.{ts,tsx}'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
