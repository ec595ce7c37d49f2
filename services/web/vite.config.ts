import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

const apiTarget = process.env.WEB_DEV_PROXY ?? 'http://127.0.0.1:3000';

// The SPA builds to dist/client; the Node server (dist/server) serves it.
export default defineConfig({
  plugins: [react()],
  // Workspace packages (@corral/contracts) are read from source: a fresh clone has no dist/ yet.
  resolve: { conditions: ['corral-source', ...defaultClientConditions] },
  build: {
    outDir: 'dist/client',
    emptyOutDir: true,
    sourcemap: true,
    // The initial chunk must stay small: markdown/highlighting, settings and admin are lazy chunks.
    chunkSizeWarningLimit: 400,
  },
  server: {
    port: 5173,
    // `pnpm dev`: the web server (local mode) stands in for the Ingress.
    proxy: Object.fromEntries(
      ['/api', '/v1', '/.well-known', '/admin/backends', '/admin/models', '/config.json'].map((path) => [
        path,
        { target: apiTarget },
      ]),
    ),
  },
});
