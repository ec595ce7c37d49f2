import type { ClientBase } from 'pg';

import { openSession, quoteIdent, type DatabaseTarget, type Session } from './connection.js';
import { migrationChecksum, scriptMatchesChecksum } from './checksum.js';
import { MigrateError } from './errors.js';
import { errorMessage, readMigrationsDirectory, type MigrationOnDisk } from './migrations-directory.js';
import {
  acquireMigrationLock,
  currentSetting,
  DEFAULT_LOCK_TIMEOUT_MS,
  initializeMigrationsTable,
  loadMigrationRows,
  markApplied,
  markRolledBack,
  migrationsTableExists,
  recordMigrationFailed,
  recordMigrationFinished,
  recordMigrationStarted,
  releaseMigrationLock,
  setSearchPath,
  type MigrationRow,
} from './prisma-table.js';

/** Anything with info and warn, e.g. console or a winston logger. */
export interface MigrateLogger {
  info(message: string): void;
  warn(message: string): void;
}

export type MigrateOptions = DatabaseTarget & {
  /** Target schema. Defaults to the URL's `?schema=`, else `public` (as Prisma). */
  schema?: string;
  /** A Prisma migrations directory: `<timestamp>_<name>/migration.sql` and migration_lock.toml. */
  migrationsDir: string;
  logger?: MigrateLogger;
  /** How long to wait for another migrator's advisory lock. Default 10 s, Prisma's own limit. */
  lockTimeoutMs?: number;
  /**
   * `prisma migrate deploy` ignores applied migrations whose file was edited afterwards; so does
   * this runner by default (it warns). Set this to refuse to run instead.
   */
  failOnModified?: boolean;
};

export interface MigrateResult {
  schema: string;
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Migrations in the directory that were already applied before this call. */
  alreadyApplied: string[];
  /** Applied migrations whose migration.sql no longer matches the recorded checksum. */
  modified: string[];
}

export interface FailedMigration {
  name: string;
  startedAt: Date;
  logs: string | null;
}

export interface MigrationStatus {
  schema: string;
  /** False when the schema or its `_prisma_migrations` table does not exist yet. */
  migrationsTableExists: boolean;
  applied: string[];
  pending: string[];
  failed: FailedMigration[];
  /** Applied, but migration.sql changed since (Prisma's `edited_migration_names`). */
  modified: string[];
  /** Recorded as applied but missing from the directory. */
  notInDirectory: string[];
  /** Nothing pending, failed, modified or missing. */
  upToDate: boolean;
}

export type StatusOptions = DatabaseTarget & { schema?: string; migrationsDir: string };

export type ResolveOptions = DatabaseTarget & {
  schema?: string;
  migrationsDir: string;
  migrationName: string;
  /** `rolled-back`: the failed attempt is undone, retry it on the next deploy; `applied`: it was finished by hand. */
  resolution: 'applied' | 'rolled-back';
  lockTimeoutMs?: number;
};

const silentLogger: MigrateLogger = { info: () => undefined, warn: () => undefined };
const RESOLVE_HELP = 'https://pris.ly/d/migrate-resolve';

/**
 * Applies pending migrations the way `prisma migrate deploy` does (schema-engine
 * `apply_migrations`): take the advisory lock, create `_prisma_migrations` if needed, refuse if a
 * failed migration is recorded, then apply each unapplied migration in directory order.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const logger = options.logger ?? silentLogger;
  const onDisk = await readMigrationsDirectory(options.migrationsDir);

  return withLockedSession(options, options.lockTimeoutMs, async ({ client, schema }) => {
    await initializeMigrationsTable(client, schema);
    const rows = await loadMigrationRows(client, schema);

    const failed = failedMigrations(rows);
    if (failed.length > 0) throw foundFailedMigrations(failed, schema);

    const modified = modifiedMigrations(onDisk, rows);
    if (modified.length > 0) {
      const message =
        `Applied migration(s) ${modified.map((m) => `\`${m}\``).join(', ')} in schema "${schema}" were modified after they were applied ` +
        '(migration.sql no longer matches its recorded checksum); the database keeps the original version.';
      if (options.failOnModified === true) {
        throw new MigrateError('MODIFIED', message, { migrationNames: modified });
      }
      logger.warn(message);
    }

    const live = rows.filter((row) => row.rolled_back_at === null);
    const alreadyApplied = onDisk
      .filter((m) => live.some((row) => row.migration_name === m.name))
      .map((m) => m.name);
    const pending = onDisk.filter((m) => !live.some((row) => row.migration_name === m.name));
    for (const migration of pending) scriptOrThrow(migration);

    const applied: string[] = [];
    for (const migration of pending) {
      logger.info(`Applying migration \`${migration.name}\` to schema "${schema}"`);
      await applyOne(client, schema, migration);
      applied.push(migration.name);
      logger.info(`Applied migration \`${migration.name}\``);
    }
    return { schema, applied, alreadyApplied, modified };
  });
}

/** Compares the directory with `_prisma_migrations` without changing anything (no lock, no DDL). */
export async function migrationStatus(options: StatusOptions): Promise<MigrationStatus> {
  const onDisk = await readMigrationsDirectory(options.migrationsDir);
  const session = await openSession(options, options.schema);
  try {
    const { client, schema } = session;
    const exists = await migrationsTableExists(client, schema);
    const rows = exists ? await loadMigrationRows(client, schema) : [];
    const live = rows.filter((row) => row.rolled_back_at === null);
    const failed = failedMigrations(rows);
    const appliedRows = live.filter((row) => row.finished_at !== null);

    const applied = onDisk
      .filter((m) => appliedRows.some((row) => row.migration_name === m.name))
      .map((m) => m.name);
    const pending = onDisk
      .filter((m) => !live.some((row) => row.migration_name === m.name))
      .map((m) => m.name);
    const modified = modifiedMigrations(onDisk, rows);
    const notInDirectory = [...new Set(appliedRows.map((row) => row.migration_name))].filter(
      (name) => !onDisk.some((m) => m.name === name),
    );
    return {
      schema,
      migrationsTableExists: exists,
      applied,
      pending,
      failed,
      modified,
      notInDirectory,
      upToDate: pending.length + failed.length + modified.length + notInDirectory.length === 0,
    };
  } finally {
    await session.close(false);
  }
}

/**
 * `prisma migrate resolve --applied | --rolled-back`: the way out of a failed migration (P3009),
 * with the same rules and the same rows Prisma writes.
 */
export async function resolveMigration(options: ResolveOptions): Promise<void> {
  const onDisk = await readMigrationsDirectory(options.migrationsDir);
  const name = options.migrationName;

  await withLockedSession(options, options.lockTimeoutMs, async ({ client, schema }) => {
    if (options.resolution === 'rolled-back') {
      const rows = (await migrationsTableExists(client, schema))
        ? await loadMigrationRows(client, schema)
        : [];
      const mine = rows.filter((row) => row.migration_name === name);
      if (mine.length === 0) {
        throw new MigrateError(
          'P3011',
          `Migration \`${name}\` cannot be rolled back because it was never applied to schema "${schema}" (P3011).`,
        );
      }
      const failed = mine.filter((row) => row.finished_at === null && row.rolled_back_at === null);
      if (failed.length === 0) {
        throw new MigrateError(
          'P3012',
          `Migration \`${name}\` cannot be rolled back because it is not in a failed state (P3012).`,
        );
      }
      for (const row of failed) await markRolledBack(client, schema, row.id);
      return;
    }

    const migration = onDisk.find((m) => m.name === name);
    if (migration === undefined) {
      throw new MigrateError(
        'P3017',
        `Migration \`${name}\` could not be found in ${options.migrationsDir} (P3017).`,
      );
    }
    const script = scriptOrThrow(migration);
    if (!(await migrationsTableExists(client, schema))) await initializeMigrationsTable(client, schema);
    const mine = (await loadMigrationRows(client, schema)).filter((row) => row.migration_name === name);
    if (mine.some((row) => row.finished_at !== null)) {
      throw new MigrateError(
        'P3008',
        `Migration \`${name}\` is already recorded as applied in schema "${schema}" (P3008).`,
      );
    }
    for (const row of mine) {
      if (row.finished_at === null && row.rolled_back_at === null)
        await markRolledBack(client, schema, row.id);
    }
    await markApplied(client, schema, name, migrationChecksum(script));
  });
}

/** Opens a session with the lock held and search_path on the target schema; undoes both after. */
async function withLockedSession<T>(
  target: DatabaseTarget & { schema?: string },
  lockTimeoutMs: number | undefined,
  run: (session: Session) => Promise<T>,
): Promise<T> {
  const session = await openSession(target, target.schema);
  const { client, schema } = session;
  let failed = false;
  let locked = false;
  let previousSearchPath: string | undefined;
  try {
    previousSearchPath = await currentSetting(client, 'search_path');
    await acquireMigrationLock(client, lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
    locked = true;
    // Prisma connects with search_path = the URL's schema, so unqualified names in migration.sql land there.
    await setSearchPath(client, quoteIdent(schema));
    return await run(session);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    try {
      if (previousSearchPath !== undefined) await setSearchPath(client, previousSearchPath);
      if (locked) await releaseMigrationLock(client);
    } catch {
      failed = true; // the connection is unusable; closing it releases the session lock anyway
    }
    await session.close(failed);
  }
}

/**
 * Prisma sends the whole script as one simple-protocol query (tokio-postgres `simple_query`), which
 * PostgreSQL runs as a single implicit transaction: a failing statement undoes the whole migration.
 * The `_prisma_migrations` row is written before (started) and after (finished) in separate statements.
 */
async function applyOne(client: ClientBase, schema: string, migration: MigrationOnDisk): Promise<void> {
  const script = scriptOrThrow(migration);
  const id = await recordMigrationStarted(client, schema, migration.name, migration.checksum ?? '');
  try {
    await client.query(script);
  } catch (error) {
    // A script with its own BEGIN leaves an aborted transaction open; end it before writing the logs.
    await client.query('ROLLBACK').catch(() => undefined);
    const dbCode = (error as { code?: unknown }).code;
    const code = typeof dbCode === 'string' ? dbCode : 'none';
    const logs =
      'A migration failed to apply. New migrations cannot be applied before the error is recovered from. ' +
      `Read more about how to resolve migration issues in a production database: ${RESOLVE_HELP}\n\n` +
      `Migration name: ${migration.name}\n\nDatabase error code: ${code}\n\nDatabase error:\n${errorMessage(error)}\n`;
    await recordMigrationFailed(client, schema, id, logs);
    throw new MigrateError(
      'P3018',
      `Migration \`${migration.name}\` failed to apply to schema "${schema}" and was rolled back: ${errorMessage(error)}` +
        ` (database error code ${code}; P3018). Fix migration.sql, then run \`corral-migrate resolve --rolled-back ${migration.name}\` with the same --schema and --dir` +
        ` (or \`prisma migrate resolve --rolled-back ${migration.name}\`) and deploy again.`,
      { migrationName: migration.name, logs },
      { cause: error },
    );
  }
  await recordMigrationFinished(client, schema, id);
}

function failedMigrations(rows: MigrationRow[]): FailedMigration[] {
  return rows
    .filter((row) => row.finished_at === null && row.rolled_back_at === null)
    .map((row) => ({ name: row.migration_name, startedAt: row.started_at, logs: row.logs }));
}

/** Prisma's P3009, on one line, naming each failed migration and the way out. */
function foundFailedMigrations(failed: FailedMigration[], schema: string): MigrateError {
  const list = failed.map((f) => `\`${f.name}\` (started at ${f.startedAt.toISOString()})`).join(', ');
  const first = failed[0]?.name ?? '<name>';
  return new MigrateError(
    'P3009',
    `Found failed migration(s) in schema "${schema}": ${list}; new migrations will not be applied (P3009). ` +
      `Repair the database, then run \`corral-migrate resolve --rolled-back ${first}\` to retry it, or ` +
      `\`--applied ${first}\` if you completed it by hand (same --schema and --dir). See ${RESOLVE_HELP}`,
    {
      migrationName: first,
      migrationNames: failed.map((f) => f.name),
      logs: failed.map((f) => f.logs ?? '').join('\n'),
    },
  );
}

/** Prisma's `diagnose_migration_history` rule: a directory migration whose recorded checksum differs. */
function modifiedMigrations(onDisk: MigrationOnDisk[], rows: MigrationRow[]): string[] {
  return onDisk
    .filter((m) => {
      if (m.script === null) return false;
      const row = rows.find(
        (r) => r.migration_name === m.name && r.finished_at !== null && r.rolled_back_at === null,
      );
      return row !== undefined && !scriptMatchesChecksum(m.script, row.checksum);
    })
    .map((m) => m.name);
}

function scriptOrThrow(migration: MigrationOnDisk): string {
  if (migration.script === null) {
    throw new MigrateError(
      'P3015',
      `Could not find the migration file at ${migration.scriptPath}. Please delete the directory or restore the migration file (P3015).`,
      { migrationName: migration.name },
    );
  }
  return migration.script;
}
