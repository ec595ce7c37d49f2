// scripts/prune-deploy.mjs (run by the Dockerfile after `pnpm deploy --prod`) on a pnpm-layout
// node_modules written here: what only an optional peer brought in goes, everything reachable stays.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../../scripts/prune-deploy.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'corral-prune-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const store = join(root, 'node_modules', '.pnpm');

/** One package in the virtual store, its dependencies linked beside it as pnpm does. */
function pkg(
  id: string,
  name: string,
  manifest: Record<string, unknown>,
  links: Record<string, string> = {},
) {
  const dir = join(store, id, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', ...manifest }));
  for (const [dep, depId] of Object.entries(links)) {
    const link = join(store, id, 'node_modules', dep);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), join(store, depId, 'node_modules', dep)), link);
  }
}

function link(from: string, name: string, id: string) {
  const path = join(from, name);
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(relative(dirname(path), join(store, id, 'node_modules', name)), path);
}

// The service: depends on @prisma/client (optional peers `prisma`, `typescript`; a required peer
// `@prisma/adapter-pg` stand-in `adapter`), which pnpm resolved against the dev dependency `prisma`.
writeFileSync(
  join(root, 'package.json'),
  JSON.stringify({ name: 'svc', dependencies: { '@prisma/client': '1', express: '1' } }),
);
pkg(
  '@prisma+client@1_prisma@1',
  '@prisma/client',
  {
    peerDependencies: { prisma: '*', typescript: '*', adapter: '*' },
    peerDependenciesMeta: { prisma: { optional: true }, typescript: { optional: true } },
  },
  { prisma: 'prisma@1', typescript: 'typescript@5', adapter: 'adapter@1' },
);
pkg('prisma@1', 'prisma', { dependencies: { studio: '1' } }, { studio: 'studio@1' });
pkg('studio@1', 'studio', {});
pkg('typescript@5', 'typescript', {});
pkg('adapter@1', 'adapter', {});
// express needs `debug`, found through pnpm's hoisted .pnpm/node_modules, not a sibling link.
pkg('express@1', 'express', { dependencies: { debug: '1' } });
pkg('debug@1', 'debug', {});
link(join(store, 'node_modules'), 'debug', 'debug@1');
link(join(store, 'node_modules'), 'studio', 'studio@1');
link(join(root, 'node_modules'), '@prisma/client', '@prisma+client@1_prisma@1');
link(join(root, 'node_modules'), 'express', 'express@1');

describe('prune-deploy', () => {
  it('removes what only optional peers bring in and keeps every dependency, required peer and hoisted dep', () => {
    const out = execFileSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });
    expect(out).toMatch(/^prune-deploy: 3 of 7 packages removed/);
    const present = (id: string) => existsSync(join(store, id));
    expect(['prisma@1', 'studio@1', 'typescript@5'].filter(present)).toEqual([]);
    expect(['@prisma+client@1_prisma@1', 'adapter@1', 'express@1', 'debug@1'].every(present)).toBe(true);
    // The hoisted link to a removed package is gone; the kept one stays.
    expect(() => lstatSync(join(store, 'node_modules', 'studio'))).toThrow(/ENOENT/);
    expect(existsSync(join(store, 'node_modules', 'debug', 'package.json'))).toBe(true);
  });

  it('refuses a directory that is not a pnpm deploy', () => {
    expect(() =>
      execFileSync(process.execPath, [SCRIPT, tmpdir()], { encoding: 'utf8', stdio: 'pipe' }),
    ).toThrow(/not a pnpm deploy directory/);
  });
});
