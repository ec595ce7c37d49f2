// Writes a Brotli (.br, quality 11) and a gzip (.gz, level 9) copy beside every compressible file
// of the built SPA, once at build time, so the server never compresses on the fly (server/static.ts
// picks the copy the browser accepts). Run after `vite build`; tiny files and copies that would not
// be smaller are skipped.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** Below this, the headers cost more than compression saves. */
const MIN_BYTES = 1024;
// Not source maps: large, rarely fetched, and quality-11 Brotli on them would slow every build.
const COMPRESSIBLE = /\.(?:js|mjs|css|html|svg|json|txt|webmanifest)$/;

const distDir = path.resolve(
  process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../dist/client'),
);

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (COMPRESSIBLE.test(entry.name)) yield full;
  }
}

let written = 0;
for (const file of files(distDir)) {
  if (statSync(file).size < MIN_BYTES) continue;
  const source = readFileSync(file);
  const brotli = brotliCompressSync(source, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: source.length,
    },
  });
  const gzip = gzipSync(source, { level: 9 });
  for (const [suffix, copy] of [
    ['.br', brotli],
    ['.gz', gzip],
  ] as const) {
    if (copy.length >= source.length) continue;
    writeFileSync(`${file}${suffix}`, copy);
    written++;
  }
}
console.log(`precompressed: ${written} .br/.gz files in ${path.relative(process.cwd(), distDir) || '.'}`);
