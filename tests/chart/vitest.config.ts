import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

// 'corral-source' makes workspace packages resolve to their TypeScript source, so tests need no build.
const conditions = ['corral-source', 'node', 'development|production'];
// The services' config modules need only service-kit's config loader, not the whole kit (express,
// OpenTelemetry, prom-client); the same file, so `secret()` options and ConfigError stay shared.
const serviceKitConfig = fileURLToPath(new URL('../../packages/service-kit/src/config.ts', import.meta.url));

export default defineProject({
  resolve: { conditions, alias: [{ find: /^@corral\/service-kit$/, replacement: serviceKitConfig }] },
  ssr: { resolve: { conditions } },
  test: {
    name: 'chart',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
