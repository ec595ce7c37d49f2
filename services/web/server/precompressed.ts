import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';

/** The copies scripts/precompress.ts writes, in the order the server prefers them. */
const ENCODINGS = [
  { encoding: 'br', suffix: '.br' },
  { encoding: 'gzip', suffix: '.gz' },
] as const;

/** Every built file with a precompressed copy (URL path → the encodings it has), read once at start. */
function precompressedFiles(staticDir: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // no build yet: nothing to serve compressed
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
        continue;
      }
      for (const { encoding, suffix } of ENCODINGS) {
        if (!entry.name.endsWith(suffix)) continue;
        const urlPath = `/${path.relative(staticDir, full.slice(0, -suffix.length)).split(path.sep).join('/')}`;
        found.set(urlPath, [...(found.get(urlPath) ?? []), encoding]);
      }
    }
  };
  walk(staticDir);
  return found;
}

/**
 * The encodings `Accept-Encoding` allows (q > 0), as RFC 9110 §12.5.3 reads it: a listed coding
 * takes its q; an unlisted one takes `*`'s, if given. Order among the allowed is the server's.
 */
export function acceptedEncodings(header: string | undefined, offered: readonly string[]): string[] {
  const q = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    if (name === '') continue;
    const weight = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    q.set(name, weight === undefined ? 1 : Number(weight));
  }
  return offered.filter((encoding) => (q.get(encoding) ?? q.get('*') ?? 0) > 0);
}

/**
 * Serves a built file's Brotli or gzip copy (scripts/precompress.ts) when the request's
 * Accept-Encoding takes it (q-values honoured, Brotli first), with `Content-Encoding`, the original
 * file's type and `Vary: Accept-Encoding`; otherwise leaves the request to express.static.
 */
export function precompressed(staticDir: string, cacheControlFor: (file: string) => string): RequestHandler {
  const files = precompressedFiles(staticDir);
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const encodings = files.get(req.path);
    if (!encodings) return next();
    // Caches must key these answers on the encoding asked for, whichever is served.
    res.vary('Accept-Encoding');
    const [chosen] = acceptedEncodings(req.get('accept-encoding'), encodings);
    const variant = ENCODINGS.find((e) => e.encoding === chosen);
    if (!variant) return next();
    const file = path.join(staticDir, req.path);
    res.type(path.extname(file));
    res.setHeader('Content-Encoding', variant.encoding);
    res.setHeader('Cache-Control', cacheControlFor(file));
    res.sendFile(`${file}${variant.suffix}`, { cacheControl: false, dotfiles: 'ignore' }, (error) => {
      if (error) next(error);
    });
  };
}
