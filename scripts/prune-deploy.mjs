#!/usr/bin/env node
// Removes from a `pnpm deploy --prod` directory every package that nothing needs at run time.
//
// pnpm's lockfile resolves a package's *optional* peer dependencies against whatever the workspace
// has installed, dev dependencies included, and `pnpm deploy --prod` copies them along. So
// @prisma/client (whose peers `prisma` and `typescript` are optional) brings the whole Prisma CLI
// (Prisma Studio, a PGlite build, effect, TypeScript, React: ~200 MB) into images that apply their
// migrations with @corral/db-migrate's plain SQL and never run it.
//
// Kept: the deployed package's dependencies and optionalDependencies, then, package by package,
// theirs plus the peers they do not mark optional, resolved as Node resolves them (the nearest
// node_modules up the tree). Every directory of node_modules/.pnpm holding no kept package is deleted.
//   node scripts/prune-deploy.mjs <deploy dir> [--dry-run]
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const [given, flag] = process.argv.slice(2);
if (!given || (flag && flag !== '--dry-run')) {
  console.error('usage: node scripts/prune-deploy.mjs <deploy dir> [--dry-run]');
  process.exit(2);
}
const root = realpathSync(given);
const store = join(root, 'node_modules', '.pnpm');
if (!existsSync(store)) {
  console.error(`${store} does not exist: not a pnpm deploy directory`);
  process.exit(1);
}

const manifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** What a package needs at run time: dependencies, optionalDependencies, non-optional peers. */
function needs(pkg) {
  const optionalPeer = (name) => pkg.peerDependenciesMeta?.[name]?.optional === true;
  return [
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}).filter((name) => !optionalPeer(name)),
  ];
}

/** Node's resolution of a bare name from `dir`: the nearest node_modules/<name> up the tree. */
function resolveFrom(dir, name) {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(at) === at || !at.startsWith(root)) return undefined;
  }
}

const kept = new Set();
const queue = [root];
while (queue.length > 0) {
  const dir = queue.pop();
  if (kept.has(dir)) continue;
  kept.add(dir);
  const pkg = manifest(dir);
  for (const name of needs(pkg)) {
    const found = resolveFrom(dir, name);
    if (found && !kept.has(found)) queue.push(found);
  }
}

// A .pnpm entry is node_modules/.pnpm/<id>/node_modules/<name>: keep <id> when a kept package is in it.
const keptIds = new Set(
  [...kept]
    .map((dir) => relative(store, dir))
    .filter((rel) => !rel.startsWith('..'))
    .map((rel) => rel.split(sep)[0]),
);
const ids = readdirSync(store).filter(
  (id) => id !== 'node_modules' && lstatSync(join(store, id)).isDirectory(),
);
const sizeOf = (path) => {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat || stat.isSymbolicLink()) return 0;
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0);
};
let freed = 0;
const removed = ids.filter((id) => !keptIds.has(id)).sort();
for (const id of removed) {
  freed += sizeOf(join(store, id));
  if (flag !== '--dry-run') rmSync(join(store, id), { recursive: true, force: true });
}
// Links (the package's own node_modules, pnpm's hoisted .pnpm/node_modules) left pointing at nothing.
for (const dir of [join(root, 'node_modules'), join(store, 'node_modules')]) {
  if (flag === '--dry-run' || !existsSync(dir)) continue;
  for (const entry of readdirSync(dir)) {
    const names = entry.startsWith('@') ? readdirSync(join(dir, entry)).map((n) => join(entry, n)) : [entry];
    for (const name of names) if (!existsSync(join(dir, name))) rmSync(join(dir, name), { force: true });
  }
}
console.log(
  `prune-deploy: ${removed.length} of ${ids.length} packages removed (${(freed / 1e6).toFixed(0)} MB): nothing at run time needs them`,
);
for (const id of removed) console.log(`  - ${id}`);
