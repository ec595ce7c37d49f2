import { defineConfig } from 'vitest/config';

// One run over every package and service, so `pnpm test` prints a single summary.
export default defineConfig({
  test: {
    projects: ['packages/*', 'services/*', 'tests/*'],
  },
});
