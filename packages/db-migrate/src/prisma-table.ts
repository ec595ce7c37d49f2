import { randomUUID } from 'node:crypto';
import type { ClientBase } from 'pg';

import { quoteIdent } from './connection.js';
import { MigrateError } from './errors.js';

/**
 * Byte-for-byte the statement prisma-engines' PostgreSQL flavour runs in `create_migrations_table`
 * (sql-schema-connector/src/flavour/postgres.rs). It is unqualified: it runs with search_path set
 * to the target schema, exactly as Prisma's connection does.
 */
export const PRISMA_MIGRATIONS_TABLE_DDL = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);
`;

/** "72707369 is a unique number we chose to identify Migrate" (prisma-engines, postgres.rs `acquire_lock`). */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369;

/** Prisma's ADVISORY_LOCK_TIMEOUT. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

export interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

export function migrationsTable(schema: string): string {
  return `${quoteIdent(schema)}._prisma_migrations`;
}

/**
 * Takes Prisma's session advisory lock, so this runner, its other replicas and a real
 * `prisma migrate deploy` never apply migrations to the same database at the same time.
 */
export async function acquireMigrationLock(client: ClientBase, timeoutMs: number): Promise<void> {
  const previous = await currentSetting(client, 'lock_timeout');
  await client.query(`SELECT set_config('lock_timeout', $1, false)`, [
    `${Math.max(1, Math.round(timeoutMs))}ms`,
  ]);
  try {
    await client.query(`SELECT pg_advisory_lock(${PRISMA_ADVISORY_LOCK_KEY})`);
  } catch (error) {
    if ((error as { code?: unknown }).code !== '55P03') throw error;
    const holder = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND objsubid = 1 AND granted`,
      [PRISMA_ADVISORY_LOCK_KEY],
    );
    const pid = holder.rows[0]?.pid;
    throw new MigrateError(
      'LOCK_TIMEOUT',
      `Timed out after ${timeoutMs} ms waiting for the migration advisory lock pg_advisory_lock(${PRISMA_ADVISORY_LOCK_KEY})` +
        (pid === undefined ? '' : `, held by PostgreSQL backend pid ${pid}`) +
        '; another migrator (or prisma migrate) is running against this database.',
      {},
      { cause: error },
    );
  } finally {
    await client.query(`SELECT set_config('lock_timeout', $1, false)`, [previous]);
  }
}

export async function releaseMigrationLock(client: ClientBase): Promise<void> {
  await client.query(`SELECT pg_advisory_unlock(${PRISMA_ADVISORY_LOCK_KEY})`);
}

export async function currentSetting(client: ClientBase, name: string): Promise<string> {
  const result = await client.query<{ value: string }>(`SELECT current_setting($1) AS value`, [name]);
  return result.rows[0]?.value ?? '';
}

export async function setSearchPath(client: ClientBase, searchPath: string): Promise<void> {
  await client.query(`SELECT set_config('search_path', $1, false)`, [searchPath]);
}

export async function schemaExists(client: ClientBase, schema: string): Promise<boolean> {
  const result = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema]);
  return result.rowCount !== 0;
}

export async function migrationsTableExists(client: ClientBase, schema: string): Promise<boolean> {
  const result = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = '_prisma_migrations' AND c.relkind = 'r'`,
    [schema],
  );
  return result.rowCount !== 0;
}

/**
 * Prisma's `initialize`: create the schema and `_prisma_migrations` if missing, but refuse a
 * schema that already has tables and no migration history (P3005; it must be baselined).
 * Expects search_path to be the target schema and the advisory lock to be held.
 */
export async function initializeMigrationsTable(client: ClientBase, schema: string): Promise<void> {
  // Checked first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists.
  if (!(await schemaExists(client, schema))) {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  }
  if (await migrationsTableExists(client, schema)) return;

  const tables = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname`,
    [schema],
  );
  if (tables.rowCount !== 0) {
    const names = tables.rows.map((row) => row.relname);
    throw new MigrateError(
      'P3005',
      `The database schema "${schema}" is not empty (tables: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}) ` +
        'and has no _prisma_migrations table (P3005). Baseline it first: https://pris.ly/d/migrate-baseline',
    );
  }
  await client.query(PRISMA_MIGRATIONS_TABLE_DDL);
}

/** Prisma's `load_migrations_table`: every row, oldest first. */
export async function loadMigrationRows(client: ClientBase, schema: string): Promise<MigrationRow[]> {
  const result = await client.query<MigrationRow>(
    `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
       FROM ${migrationsTable(schema)} ORDER BY started_at ASC`,
  );
  return result.rows;
}

/** Prisma's `record_migration_started`: id, checksum, started_at, migration_name; the rest defaults. */
export async function recordMigrationStarted(
  client: ClientBase,
  schema: string,
  migrationName: string,
  checksum: string,
): Promise<string> {
  const id = randomUUID();
  await client.query(
    `INSERT INTO ${migrationsTable(schema)} (id, checksum, started_at, migration_name)
     VALUES ($1, $2, clock_timestamp(), $3)`,
    [id, checksum, migrationName],
  );
  return id;
}

/** Prisma's `record_successful_step` followed by `record_migration_finished`. */
export async function recordMigrationFinished(client: ClientBase, schema: string, id: string): Promise<void> {
  await client.query(
    `UPDATE ${migrationsTable(schema)}
        SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp()
      WHERE id = $1`,
    [id],
  );
}

/** Prisma's `record_failed_step`: only the logs; finished_at stays NULL, which marks it failed. */
export async function recordMigrationFailed(
  client: ClientBase,
  schema: string,
  id: string,
  logs: string,
): Promise<void> {
  await client.query(`UPDATE ${migrationsTable(schema)} SET logs = $2 WHERE id = $1`, [id, logs]);
}

/** Prisma's `mark_migration_rolled_back_by_id`. */
export async function markRolledBack(client: ClientBase, schema: string, id: string): Promise<void> {
  await client.query(
    `UPDATE ${migrationsTable(schema)} SET rolled_back_at = clock_timestamp() WHERE id = $1`,
    [id],
  );
}

/** Prisma's `mark_migration_applied_impl`: started_at = finished_at = now, logs '', steps left at 0. */
export async function markApplied(
  client: ClientBase,
  schema: string,
  migrationName: string,
  checksum: string,
): Promise<void> {
  await client.query(
    `INSERT INTO ${migrationsTable(schema)} (id, checksum, logs, started_at, finished_at, migration_name)
     VALUES ($1, $2, '', statement_timestamp(), statement_timestamp(), $3)`,
    [randomUUID(), checksum, migrationName],
  );
}
