// Writing, reading and listing backup files: a pg_dump custom-format archive, optionally encrypted,
// with its manifest beside it. Plaintext of an encrypted backup only ever flows through pipes.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { CliError } from '../errors.js';
import { corralVersion } from '../version.js';
import {
  createDecryptStream,
  createEncryptStream,
  ENCRYPTION_SCHEME,
  isEncryptedFile,
} from './encryption.js';
import {
  type Manifest,
  MANIFEST_SUFFIX,
  manifestPathFor,
  readDatabaseFacts,
  readManifest,
} from './manifest.js';

/** The schemas Corral's services own; backups hold exactly these. */
export const SCHEMAS = ['auth', 'chat'];
/** Extensions the migrations put in `public` (outside the dumped schemas) that restored indexes need. */
export const EXTENSIONS = ['pg_trgm', 'btree_gin'];
export const ENCRYPTED_SUFFIX = '.enc';

export function requireTool(tool: 'pg_dump' | 'pg_restore' | 'psql'): void {
  const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new CliError(
      `${tool} was not found: install the PostgreSQL 15 (or newer) client tools, e.g. apt-get install postgresql-client`,
    );
  }
}

export const backupTimestamp = (date = new Date()): string =>
  date.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');

/** Counts bytes and hashes what passes through. */
function digestingPassThrough(): { stream: Transform; digest: () => { bytes: number; sha256: string } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  return { stream, digest: () => ({ bytes, sha256: hash.digest('hex') }) };
}

function waitForExit(child: ReturnType<typeof spawn>, tool: string, stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new CliError(`${tool} failed (${signal ?? `exit ${code}`}): ${stderr().trim() || 'no output'}`),
          ),
    );
  });
}

function collectStderr(child: ReturnType<typeof spawn>): () => string {
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-4000);
  });
  return () => text;
}

export interface WriteBackupResult {
  file: string;
  manifest: Manifest;
}

/**
 * Dumps the Corral schemas to `file` (encrypted when `key` is given) and writes its manifest.
 * Row counts and migration heads are read in the very snapshot pg_dump dumps (pg_export_snapshot),
 * so the manifest describes exactly what the dump holds.
 */
export async function writeBackup(
  url: string,
  file: string,
  key: string | undefined,
): Promise<WriteBackupResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const partial = `${file}.partial`;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
    const schemas = (
      await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)', [
        SCHEMAS,
      ])
    ).rows.map((row) => row.nspname);
    if (schemas.length === 0)
      throw new CliError(`the database has none of the schemas ${SCHEMAS.join(', ')}; nothing to back up`);
    const facts = await readDatabaseFacts(client, schemas);
    const createdAt = new Date().toISOString();
    await mkdir(path.dirname(file), { recursive: true });

    // Built before pg_dump starts: node discards a child's unread stdout once the child exits.
    const encrypt = key ? await createEncryptStream(key) : undefined;
    const dump = spawn(
      'pg_dump',
      [
        '--format=custom',
        '--no-owner',
        `--snapshot=${snapshot}`,
        ...schemas.flatMap((s) => ['--schema', s]),
        `--dbname=${url}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const stderr = collectStderr(dump);
    const exited = waitForExit(dump, 'pg_dump', stderr);
    const digest = digestingPassThrough();
    const stages: (Readable | Transform)[] = [dump.stdout!];
    if (encrypt) stages.push(encrypt);
    await Promise.all([
      pipeline([...stages, digest.stream, createWriteStream(partial, { mode: 0o600 })]),
      exited,
    ]);
    await rename(partial, file);
    const manifest: Manifest = {
      format: 'corral-backup/1',
      createdAt,
      corralVersion: corralVersion(),
      schemas,
      ...facts,
      file: { name: path.basename(file), ...digest.digest() },
      encryption: key ? ENCRYPTION_SCHEME : null,
    };
    const manifestFile = manifestPathFor(file);
    await writeFile(`${manifestFile}.partial`, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    await rename(`${manifestFile}.partial`, manifestFile);
    return { file, manifest };
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end();
  }
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

export async function ensureExtensions(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const extension of EXTENSIONS) {
      await client.query(`CREATE EXTENSION IF NOT EXISTS ${extension} WITH SCHEMA public`);
    }
  } finally {
    await client.end();
  }
}

/** The server's major version (`SHOW server_version_num` / 10000). */
async function serverMajorVersion(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
    return Math.floor(Number(rows[0]!.server_version_num) / 10_000);
  } finally {
    await client.end();
  }
}

/** Session settings pg_restore's script sets that a server older than the version named refuses. */
const SETTINGS_SINCE: { line: string; major: number }[] = [
  // pg_restore 17 writes it whatever the target; PostgreSQL 15 and 16 answer "unrecognized
  // configuration parameter" and the single-transaction restore stops there.
  { line: 'SET transaction_timeout = 0;', major: 17 },
];
/** The script's preamble (its SET lines) ends well within this many lines. */
const PREAMBLE_LINES = 200;

/**
 * Passes pg_restore's script through, minus the preamble's SET lines a server of `serverMajor`
 * does not know. Only the preamble is read line by line: table data (COPY) is passed as is.
 */
export function settingsFilter(serverMajor: number): Transform {
  const drop = new Set(SETTINGS_SINCE.filter((s) => serverMajor < s.major).map((s) => s.line));
  let pending = '';
  let lines = 0;
  let done = drop.size === 0;
  const keep = (line: string) => !drop.has(line.replace(/\r$/, ''));
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (done) return callback(null, chunk);
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop()!;
      lines += parts.length;
      const out = parts.filter(keep).map((line) => `${line}\n`);
      if (lines >= PREAMBLE_LINES) {
        done = true;
        out.push(pending);
        pending = '';
      }
      callback(null, out.join(''));
    },
    flush(callback) {
      callback(null, done || keep(pending) ? pending : '');
    },
  });
}

/**
 * Restores `file` (plain or encrypted) into the database at `url` in one transaction: pg_restore
 * writes the script (`--clean --if-exists --single-transaction`: BEGIN … COMMIT), psql runs it and
 * stops at the first error. The script goes through psql rather than pg_restore's own connection so
 * a newer client (the CLI image's PostgreSQL 17) restores into an older server: the settings that
 * server lacks are left out (settingsFilter). An encrypted file is decrypted into pg_restore's
 * stdin; a chunk that fails authentication kills psql before the COMMIT, so nothing is applied.
 */
export async function restoreFile(url: string, file: string, key: string | undefined): Promise<void> {
  const encrypted = await isEncryptedFile(file);
  if (encrypted && !key) {
    throw new CliError(`${file} is encrypted: set BACKUP_ENCRYPTION_KEY (or BACKUP_ENCRYPTION_KEY_FILE)`);
  }
  await ensureExtensions(url);
  const serverMajor = await serverMajorVersion(url);
  const args = ['--clean', '--if-exists', '--no-owner', '--single-transaction', '--file=-'];
  if (!encrypted) args.push(path.resolve(file));
  const restore = spawn('pg_restore', args, { stdio: [encrypted ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const psql = spawn(
    'psql',
    ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', `--dbname=${url}`, '--file=-'],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  const restoreExited = waitForExit(restore, 'pg_restore', collectStderr(restore));
  const psqlExited = waitForExit(psql, 'psql (running the restore script)', collectStderr(psql));
  psql.stdin!.on('error', () => undefined); // EPIPE when psql stops at an error; its exit code says why
  // Errors of the pipe itself surface as the processes' exit codes.
  const script = pipeline(restore.stdout!, settingsFilter(serverMajor), psql.stdin!).catch(() => undefined);
  // psql's error first: when it stops at a failed statement, pg_restore then fails on the closed pipe.
  // A script cut short (pg_restore failed) has no COMMIT, so psql's transaction is rolled back.
  const finished = Promise.allSettled([psqlExited, restoreExited, script]).then(([p, r]) => {
    if (p.status === 'rejected') throw p.reason;
    if (r.status === 'rejected') throw r.reason;
  });
  if (!encrypted) return finished;

  const input = restore.stdin!;
  input.on('error', () => undefined); // EPIPE when pg_restore stops early; its exit code says why
  const source = createReadStream(file);
  const decrypt = createDecryptStream(key!);
  const decryptFailed = new Promise<never>((_, reject) => {
    const fail = (error: Error) => {
      psql.kill('SIGKILL'); // before the script ends: no COMMIT
      restore.kill('SIGKILL');
      input.destroy();
      source.destroy();
      reject(error);
    };
    decrypt.once('error', fail);
    source.once('error', fail);
  });
  source.pipe(decrypt).pipe(input);
  await Promise.race([finished, decryptFailed]);
}

/** A backup file in a directory, as `corral backup list` shows it. */
export interface BackupEntry {
  file: string;
  name: string;
  bytes: number;
  createdAt: string;
  encrypted: boolean;
  manifest: boolean;
}

const isBackupName = (name: string): boolean =>
  (name.endsWith('.dump') || name.endsWith(`.dump${ENCRYPTED_SUFFIX}`)) && !name.startsWith('.');

/** Backups in `dir`, newest first (by the manifest's time, else the file's modification time). */
export async function listBackups(dir: string): Promise<BackupEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new CliError(`cannot read the backup directory ${dir}`);
  }
  const entries: BackupEntry[] = [];
  for (const name of names.filter(isBackupName)) {
    const file = path.join(dir, name);
    const info = await stat(file);
    if (!info.isFile()) continue;
    let createdAt = info.mtime.toISOString();
    let manifest = false;
    if (names.includes(`${name}${MANIFEST_SUFFIX}`)) {
      try {
        createdAt = readManifest(file).createdAt;
        manifest = true;
      } catch {
        manifest = false;
      }
    }
    entries.push({
      file,
      name,
      bytes: info.size,
      createdAt,
      encrypted: await isEncryptedFile(file),
      manifest,
    });
  }
  return entries.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.name.localeCompare(a.name));
}

/** Deletes all but the newest `keep` backups in `dir`, with their manifests; the names removed. */
export async function pruneBackups(dir: string, keep: number): Promise<string[]> {
  const old = (await listBackups(dir)).slice(keep);
  for (const entry of old) {
    await rm(entry.file, { force: true });
    await rm(manifestPathFor(entry.file), { force: true });
  }
  return old.map((entry) => entry.name);
}
