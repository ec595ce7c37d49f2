import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { CliError, usageError } from '../errors.js';
import { say } from '../output.js';
import { databaseUrl, loadTargets, splitSchema } from '../targets.js';
import { type Command, str } from './types.js';

/** The schemas Corral's services own; backups hold exactly these. */
export const SCHEMAS = ['auth', 'chat'];
/** Extensions the migrations put in `public` (outside the dumped schemas) that restored indexes need. */
const EXTENSIONS = ['pg_trgm', 'btree_gin'];

function requireTool(tool: 'pg_dump' | 'pg_restore'): void {
  const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new CliError(
      `${tool} was not found: install the PostgreSQL 15 (or newer) client tools, e.g. apt-get install postgresql-client`,
    );
  }
}

function run(tool: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

const timestamp = (): string =>
  new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');

const DB_FLAG = { 'database-url': { type: 'string' } } as const;

export const backupCommand: Command = {
  name: 'backup',
  summary: 'pg_dump the auth and chat schemas to a file',
  usage: `corral backup [file] [--database-url URL]

Writes a custom-format dump (pg_dump -Fc -n auth -n chat) of the Corral schemas.
file defaults to corral-backup-<UTC time>.dump in the current directory.
Database: --database-url, else DATABASE_URL, else the local run. Needs pg_dump 15+ on PATH.`,
  options: DB_FLAG,
  allowPositionals: true,
  async run(values, positionals) {
    if (positionals.length > 1) throw usageError('backup takes at most one file');
    requireTool('pg_dump');
    const { url } = splitSchema(databaseUrl(loadTargets(), str(values, 'database-url')));
    const file = path.resolve(positionals[0] ?? `corral-backup-${timestamp()}.dump`);
    const schemaArgs = SCHEMAS.flatMap((schema) => ['--schema', schema]);
    const code = await run('pg_dump', [
      '--format=custom',
      '--no-owner',
      ...schemaArgs,
      `--file=${file}`,
      `--dbname=${url}`,
    ]);
    if (code !== 0) throw new CliError(`pg_dump failed (exit ${code})`);
    say(`backup written to ${file}`);
    return 0;
  },
};

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'pg_restore a backup (replaces the auth and chat schemas)',
  usage: `corral restore <file> [--database-url URL]

Restores a file made by \`corral backup\` with pg_restore --clean --if-exists --single-transaction:
what the dump holds replaces what is there; nothing changes if any step fails.
Stop writes first (or accept that the services see the data change under them).
Database: --database-url, else DATABASE_URL, else the local run. Needs pg_restore 15+ on PATH.`,
  options: DB_FLAG,
  allowPositionals: true,
  async run(values, positionals) {
    const [file, ...extra] = positionals;
    if (!file || extra.length > 0) throw usageError('restore needs exactly one file: corral restore <file>');
    if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
    requireTool('pg_restore');
    const { url } = splitSchema(databaseUrl(loadTargets(), str(values, 'database-url')));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const extension of EXTENSIONS) {
        await client.query(`CREATE EXTENSION IF NOT EXISTS ${extension} WITH SCHEMA public`);
      }
    } finally {
      await client.end();
    }
    const code = await run('pg_restore', [
      '--clean',
      '--if-exists',
      '--no-owner',
      '--single-transaction',
      '--exit-on-error',
      `--dbname=${url}`,
      path.resolve(file),
    ]);
    if (code !== 0) throw new CliError(`pg_restore failed (exit ${code}); the database was left as it was`);
    say(`restored ${path.resolve(file)}`);
    return 0;
  },
};
