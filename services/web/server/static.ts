import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { precompressed } from './precompressed.js';
import { isProxiedPath } from './proxy.js';

/** Vite names built files `name-<hash>.ext` under assets/: their content never changes. */
const HASHED_ASSET = /[/\\]assets[/\\][^/\\]+-[\w-]{8,}\.\w+$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The built SPA: hashed assets cached for a year, everything else (index.html, favicon)
 * revalidated on every load so a deploy is picked up at once; unknown files are 404, and any
 * other GET that wants a page gets index.html (client-side routes).
 */
export function spaRoutes(staticDir: string): Router {
  const router = express.Router();
  const indexFile = path.join(staticDir, 'index.html');
  const cacheControlFor = (filePath: string) => (HASHED_ASSET.test(filePath) ? IMMUTABLE : 'no-cache');

  // Brotli or gzip copies made at build time, when the browser takes them.
  router.use(precompressed(staticDir, cacheControlFor));
  router.use(
    express.static(staticDir, {
      index: false,
      redirect: false,
      dotfiles: 'ignore',
      setHeaders: (res, filePath) => {
        res.setHeader('Cache-Control', cacheControlFor(filePath));
      },
    }),
  );

  router.get(/.*/, (req, res, next) => {
    // A missing asset or file is a 404, not the app shell (a broken script tag should fail loudly).
    if (isProxiedPath(req.path) || req.path.startsWith('/assets/') || path.extname(req.path) !== '') {
      return next();
    }
    if (!existsSync(indexFile)) return next();
    res.sendFile(indexFile, { cacheControl: false, headers: { 'Cache-Control': 'no-cache' } });
  });

  return router;
}
