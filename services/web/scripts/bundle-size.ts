// Reports gzipped sizes of the built SPA and fails when the JavaScript a first visit loads
// (the entry script plus its modulepreloads) is over budget. Run after `vite build`.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 150 * 1024;
const distDir = path.resolve(
  process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../dist/client'),
);

const gz = (file: string) => gzipSync(readFileSync(path.join(distDir, file)), { level: 9 }).length;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

const html = readFileSync(path.join(distDir, 'index.html'), 'utf8');
const initial = new Set<string>();
for (const match of html.matchAll(/<script[^>]+type="module"[^>]+src="\/([^"]+)"/g)) initial.add(match[1]!);
for (const match of html.matchAll(/<link[^>]+rel="(?:modulepreload|stylesheet)"[^>]+href="\/([^"]+)"/g)) {
  initial.add(match[1]!);
}
if (initial.size === 0) {
  console.error(`no entry script found in ${path.join(distDir, 'index.html')}`);
  process.exit(1);
}

const all = readdirSync(path.join(distDir, 'assets'))
  .filter((f) => f.endsWith('.js') || f.endsWith('.css'))
  .map((f) => `assets/${f}`);
let initialTotal = 0;
console.log('gzipped sizes (initial = loaded on first visit):');
for (const file of all.sort((a, b) => gz(b) - gz(a))) {
  const size = gz(file);
  const isInitial = initial.has(file);
  if (isInitial && file.endsWith('.js')) initialTotal += size;
  console.log(`  ${isInitial ? 'initial' : 'lazy   '}  ${kb(size).padStart(9)}  ${file}`);
}
console.log(`initial JavaScript: ${kb(initialTotal)} gzipped (budget ${kb(BUDGET_BYTES)})`);
if (initialTotal > BUDGET_BYTES) {
  console.error('initial JavaScript is over budget');
  process.exit(1);
}
