import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  backupTimestamp,
  ENCRYPTED_SUFFIX,
  listBackups,
  pruneBackups,
  requireTool,
  restoreFile,
  SCHEMAS,
  writeBackup,
} from '../backup/archive.js';
import { encryptionKeyFromEnv } from '../backup/encryption.js';
import { verifyBackup } from '../backup/verify.js';
import { CliError, usageError } from '../errors.js';
import { say, warn } from '../output.js';
import { databaseUrl, loadTargets, splitSchema } from '../targets.js';
import { type Command, str, type Values } from './types.js';

const DAY_MS = 86_400_000;

function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function humanAge(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours}h` : `${Math.floor(hours / 24)}d`;
}

const dbUrl = (values: Values): string =>
  splitSchema(databaseUrl(loadTargets(), str(values, 'database-url'))).url;

const backupDir = (values: Values, positional: string | undefined): string =>
  path.resolve(positional ?? str(values, 'dir') ?? process.env.BACKUP_DIR ?? '.');

function positiveNumber(values: Values, flag: string): number | undefined {
  const raw = str(values, flag);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw usageError(`--${flag} must be a positive number, got "${raw}"`);
  return value;
}

async function createBackup(values: Values, positionals: string[]): Promise<number> {
  if (positionals.length > 1) throw usageError('backup takes at most one file');
  const key = encryptionKeyFromEnv();
  const keep = positiveNumber(values, 'keep');
  requireTool('pg_dump');
  const url = dbUrl(values);
  const name = `corral-backup-${backupTimestamp()}.dump${key ? ENCRYPTED_SUFFIX : ''}`;
  const file = path.resolve(positionals[0] ?? path.join(backupDir(values, undefined), name));
  if (existsSync(file)) throw new CliError(`${file} already exists; backups are never overwritten`);
  const { manifest } = await writeBackup(url, file, key);
  const rows = Object.values(manifest.tables).reduce((sum, n) => sum + n, 0);
  say(
    `backup written to ${file} (${humanBytes(manifest.file.bytes)}, ${key ? 'encrypted' : 'NOT encrypted'}, ${Object.keys(manifest.tables).length} tables, ${rows} rows); manifest beside it`,
  );
  if (keep !== undefined) {
    for (const removed of await pruneBackups(path.dirname(file), Math.floor(keep))) say(`removed ${removed}`);
  }
  return 0;
}

async function list(values: Values, positionals: string[]): Promise<number> {
  if (positionals.length > 1) throw usageError('backup list takes at most one directory');
  const entries = await listBackups(backupDir(values, positionals[0]));
  const now = Date.now();
  if (values.json) {
    say(
      JSON.stringify(
        entries.map((entry) => ({
          ...entry,
          ageSeconds: Math.round((now - Date.parse(entry.createdAt)) / 1000),
        })),
        null,
        2,
      ),
    );
    return 0;
  }
  if (entries.length === 0) {
    say('no backups');
    return 0;
  }
  say(`${'created (UTC)'.padEnd(21)}${'age'.padStart(6)}${'size'.padStart(11)}  encrypted  manifest  file`);
  for (const entry of entries) {
    say(
      `${entry.createdAt.slice(0, 19).replace('T', ' ').padEnd(21)}${humanAge(now - Date.parse(entry.createdAt)).padStart(6)}${humanBytes(entry.bytes).padStart(11)}  ${(entry.encrypted ? 'yes' : 'no').padEnd(9)}  ${(entry.manifest ? 'yes' : 'no').padEnd(8)}  ${entry.name}`,
    );
  }
  return 0;
}

async function verify(values: Values, positionals: string[]): Promise<number> {
  const [target, ...extra] = positionals;
  if (!target || extra.length > 0)
    throw usageError('backup verify needs one file (or a directory: its newest backup)');
  if (!existsSync(target)) throw new CliError(`no such file: ${target}`);
  let file = path.resolve(target);
  if (statSync(file).isDirectory()) {
    const newest = (await listBackups(file))[0];
    if (!newest) throw new CliError(`no backups in ${file}`);
    file = newest.file;
  }
  const maxAgeDays = positiveNumber(values, 'max-age-days');
  requireTool('pg_restore');
  requireTool('psql');
  const result = await verifyBackup(dbUrl(values), file, encryptionKeyFromEnv());
  const ageDays = (Date.now() - Date.parse(result.manifest.createdAt)) / DAY_MS;
  if (maxAgeDays !== undefined && ageDays > maxAgeDays) {
    result.differences.push(
      `the backup is ${ageDays.toFixed(1)} days old, older than --max-age-days ${maxAgeDays}: is the backup CronJob running?`,
    );
  }
  const ok = result.differences.length === 0;
  if (values.json) {
    say(
      JSON.stringify(
        {
          file,
          ok,
          createdAt: result.manifest.createdAt,
          scratchDatabase: result.scratchDatabase,
          differences: result.differences,
        },
        null,
        2,
      ),
    );
  } else if (ok) {
    const tables = Object.keys(result.manifest.tables).length;
    const heads = Object.entries(result.manifest.migrations)
      .map(([schema, m]) => `${schema}@${m.head ?? 'none'}`)
      .join(', ');
    say(
      `verified ${file}: restored into a scratch database, ${tables} tables and migration heads (${heads}) match the manifest`,
    );
  } else {
    warn(`backup ${file} FAILED verification:`);
    for (const difference of result.differences) warn(`  - ${difference}`);
  }
  return ok ? 0 : 1;
}

export const backupCommand: Command = {
  name: 'backup',
  summary: 'back up (encrypted with BACKUP_ENCRYPTION_KEY), list and verify backups',
  usage: `corral backup [file] [--dir DIR] [--keep N] [--database-url URL]
corral backup list [dir] [--json]
corral backup verify <file|dir> [--max-age-days N] [--json] [--database-url URL]

backup: pg_dump -Fc of the ${SCHEMAS.join(' and ')} schemas to file (default DIR/corral-backup-<UTC>.dump,
  DIR = --dir, else BACKUP_DIR, else .), and <file>.manifest.json beside it: time, Corral version,
  migration heads per schema, row counts per table (read in the dump's own snapshot), size, sha256.
  With BACKUP_ENCRYPTION_KEY (or BACKUP_ENCRYPTION_KEY_FILE; 16+ characters) the dump is encrypted
  as it streams (AES-256-GCM in 64 KiB chunks, key from scrypt; no plaintext touches the disk) and
  named .dump.enc. --keep N then deletes all but the newest N backups in that directory.
list: backups in dir (default BACKUP_DIR, else .), newest first: time, age, size, encrypted, manifest.
verify: restores the file (a directory: its newest backup) into a scratch database on the same
  server (needs CREATEDB), compares row counts and migration heads with the manifest, drops the
  scratch database. Exit 1 on any difference, or if the backup is older than --max-age-days.
Database: --database-url, else DATABASE_URL, else the local run. Needs pg_dump/pg_restore 15+.
(A backup file literally named "list" or "verify": write ./list.)`,
  options: {
    'database-url': { type: 'string' },
    dir: { type: 'string' },
    keep: { type: 'string' },
    json: { type: 'boolean' },
    'max-age-days': { type: 'string' },
  },
  allowPositionals: true,
  run(values, positionals) {
    const [first, ...rest] = positionals;
    if (first === 'list') return list(values, rest);
    if (first === 'verify') return verify(values, rest);
    return createBackup(values, positionals);
  },
};

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'restore a backup, encrypted or not (replaces the auth and chat schemas)',
  usage: `corral restore <file> [--database-url URL]

Restores a file made by \`corral backup\` with pg_restore --clean --if-exists --single-transaction:
what the dump holds replaces what is there; nothing changes if any step fails. An encrypted
backup (.dump.enc) needs BACKUP_ENCRYPTION_KEY (or _FILE); it is decrypted into pg_restore's input
chunk by chunk, and a chunk that fails authentication aborts the restore before it commits.
Stop writes first (or accept that the services see the data change under them).
Database: --database-url, else DATABASE_URL, else the local run. Needs pg_restore and psql 15+ on PATH.`,
  options: { 'database-url': { type: 'string' } },
  allowPositionals: true,
  async run(values, positionals) {
    const [file, ...extra] = positionals;
    if (!file || extra.length > 0) throw usageError('restore needs exactly one file: corral restore <file>');
    if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
    requireTool('pg_restore');
    requireTool('psql');
    await restoreFile(dbUrl(values), path.resolve(file), encryptionKeyFromEnv());
    say(`restored ${path.resolve(file)}`);
    return 0;
  },
};
