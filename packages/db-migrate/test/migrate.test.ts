import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  migrate,
  MigrateError,
  migrationStatus,
  PRISMA_ADVISORY_LOCK_KEY,
  resolveMigration,
} from '../src/index.js';
import {
  createInspector,
  DATABASE_URL,
  FIXTURES,
  removeDir,
  scratchMigrations,
  uniqueSchema,
} from './helpers.js';

const BASIC = ['20240101000000_init', '20240102000000_add_posts', '20240103000000_add_role'];
const db = createInspector();
let schema: string;
const scratchDirs: string[] = [];

async function scratch(...fixtures: string[]): Promise<string> {
  const dir = await scratchMigrations(...fixtures);
  scratchDirs.push(dir);
  return dir;
}

async function sha256OfFile(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

async function rejection(promise: Promise<unknown>): Promise<MigrateError> {
  const error: unknown = await promise.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MigrateError);
  return error as MigrateError;
}

beforeEach(() => {
  schema = uniqueSchema();
});
afterEach(async () => {
  await db.dropSchema(schema);
  await Promise.all(scratchDirs.splice(0).map(removeDir));
});
afterAll(() => db.end());

describe('deploy: happy path', () => {
  it('applies every migration in order and records each row as prisma migrate deploy does', async () => {
    const dir = path.join(FIXTURES, 'basic');
    const result = await migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });

    expect(result).toEqual({ schema, applied: BASIC, alreadyApplied: [], modified: [] });
    expect(await db.tables(schema)).toEqual(['Post', 'User', '_prisma_migrations']);

    const rows = await db.rows(schema);
    expect(rows.map((r) => r.migration_name)).toEqual(BASIC);
    for (const row of rows) {
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.checksum).toBe(await sha256OfFile(path.join(dir, row.migration_name, 'migration.sql')));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
      expect(row.rolled_back_at).toBeNull();
    }
    // Applied in directory order.
    expect(rows[0]!.started_at.getTime()).toBeLessThanOrEqual(rows[1]!.started_at.getTime());
    expect(rows[1]!.started_at.getTime()).toBeLessThanOrEqual(rows[2]!.started_at.getTime());
  });

  it("creates _prisma_migrations with Prisma's exact columns, types, defaults and primary key", async () => {
    await migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: path.join(FIXTURES, 'basic') });

    const columns = await db.pool.query(
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = '_prisma_migrations'
        ORDER BY ordinal_position`,
      [schema],
    );
    expect(columns.rows).toEqual([
      { column_name: 'id', data_type: 'character varying', len: 36, is_nullable: 'NO', column_default: null },
      {
        column_name: 'checksum',
        data_type: 'character varying',
        len: 64,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'finished_at',
        data_type: 'timestamp with time zone',
        len: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'migration_name',
        data_type: 'character varying',
        len: 255,
        is_nullable: 'NO',
        column_default: null,
      },
      { column_name: 'logs', data_type: 'text', len: null, is_nullable: 'YES', column_default: null },
      {
        column_name: 'rolled_back_at',
        data_type: 'timestamp with time zone',
        len: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'started_at',
        data_type: 'timestamp with time zone',
        len: null,
        is_nullable: 'NO',
        column_default: 'now()',
      },
      {
        column_name: 'applied_steps_count',
        data_type: 'integer',
        len: null,
        is_nullable: 'NO',
        column_default: '0',
      },
    ]);
    const pkey = await db.pool.query(
      `SELECT conname, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
         JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 AND c.contype = 'p'
          AND c.conrelid = ($2::regclass)`,
      [schema, `${pg.escapeIdentifier(schema)}._prisma_migrations`],
    );
    expect(pkey.rows).toEqual([{ conname: '_prisma_migrations_pkey', def: 'PRIMARY KEY (id)' }]);
  });

  it('puts unqualified names from migration.sql in the target schema, not in public', async () => {
    await migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: path.join(FIXTURES, 'basic') });

    const enumSchema = await db.pool.query(
      `SELECT n.nspname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typname = 'Role' AND n.nspname = $1`,
      [schema],
    );
    expect(enumSchema.rowCount).toBe(1);
    const fk = await db.pool.query(
      `SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c WHERE c.conname = 'Post_authorId_fkey'
          AND c.conrelid = ($1::regclass)`,
      [`${pg.escapeIdentifier(schema)}."Post"`],
    );
    expect(fk.rows[0]?.def).toContain(`REFERENCES ${schema}."User"(id)`);
  });

  it('takes the schema from ?schema= in the URL, as Prisma does', async () => {
    const result = await migrate({
      databaseUrl: `${DATABASE_URL}?schema=${schema}`,
      migrationsDir: path.join(FIXTURES, 'basic'),
    });
    expect(result.schema).toBe(schema);
    expect(await db.tables(schema)).toContain('_prisma_migrations');
  });

  it('is a no-op the second time', async () => {
    const dir = path.join(FIXTURES, 'basic');
    await migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });
    const before = await db.rows(schema);

    const again = await migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });

    expect(again).toEqual({ schema, applied: [], alreadyApplied: BASIC, modified: [] });
    expect(await db.rows(schema)).toEqual(before);
  });

  it('applies a migration added later on its own', async () => {
    const dir = await scratch('basic');
    await migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });
    const before = await db.rows(schema);
    await mkdir(path.join(dir, '20240104000000_add_bio'));
    await writeFile(
      path.join(dir, '20240104000000_add_bio', 'migration.sql'),
      await readFile(path.join(FIXTURES, 'extra', '20240104000000_add_bio', 'migration.sql')),
    );

    const result = await migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });

    expect(result.applied).toEqual(['20240104000000_add_bio']);
    expect(result.alreadyApplied).toEqual(BASIC);
    const rows = await db.rows(schema);
    expect(rows.slice(0, 3)).toEqual(before);
    expect(rows[3]).toMatchObject({ migration_name: '20240104000000_add_bio', applied_steps_count: 1 });
    const bio = await db.pool.query(
      `SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'User' AND column_name = 'bio'`,
      [schema],
    );
    expect(bio.rowCount).toBe(1);
  });

  it('runs a single-statement migration outside a transaction block, so CREATE INDEX CONCURRENTLY works as with Prisma', async () => {
    const dir = await scratch('basic');
    await mkdir(path.join(dir, '20240105000000_concurrent_index'));
    await writeFile(
      path.join(dir, '20240105000000_concurrent_index', 'migration.sql'),
      'CREATE INDEX CONCURRENTLY "User_createdAt_idx" ON "User"("createdAt");\n',
    );

    const result = await migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });

    expect(result.applied).toContain('20240105000000_concurrent_index');
    const index = await db.pool.query(
      `SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = 'User_createdAt_idx'`,
      [schema],
    );
    expect(index.rowCount).toBe(1);
  });

  it('works through a caller-owned pool and leaves the connection as it found it', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      const result = await migrate({ pool, schema, migrationsDir: path.join(FIXTURES, 'basic') });
      expect(result.applied).toEqual(BASIC);

      const client = await pool.connect();
      try {
        const searchPath = await client.query<{ search_path: string }>('SHOW search_path');
        expect(searchPath.rows[0]?.search_path).toBe('"$user", public');
        const locks = await client.query(
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND pid = pg_backend_pid()`,
          [PRISMA_ADVISORY_LOCK_KEY],
        );
        expect(locks.rowCount).toBe(0);
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }
  });
});

describe('deploy: error paths', () => {
  it('records a failed migration, undoes its partial work, and refuses the next run naming it', async () => {
    const dir = path.join(FIXTURES, 'failing');

    const first = await rejection(migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir }));
    expect(first.code).toBe('P3018');
    expect(first.message).toContain('20240102000000_broken');
    expect(first.message).toContain('relation "Ghost" does not exist');

    const rows = await db.rows(schema);
    expect(rows.map((r) => [r.migration_name, r.finished_at === null, r.applied_steps_count])).toEqual([
      ['20240101000000_init', false, 1],
      ['20240102000000_broken', true, 0],
    ]);
    expect(rows[1]!.logs).toContain('Migration name: 20240102000000_broken');
    expect(rows[1]!.logs).toContain('Database error code: 42P01');
    expect(rows[1]!.rolled_back_at).toBeNull();
    // The statement before the failing one was rolled back with it.
    expect(await db.tables(schema)).toEqual(['User', '_prisma_migrations']);

    const second = await rejection(migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir }));
    expect(second.code).toBe('P3009');
    expect(second.message).toContain('`20240102000000_broken`');
    expect(second.message).toContain('resolve --rolled-back 20240102000000_broken');
    expect(second.message).not.toContain('\n');
    expect(await db.rows(schema)).toHaveLength(2);
  });

  it('lets a failed migration be retried after resolve --rolled-back, as prisma migrate resolve does', async () => {
    const dir = await scratch('failing');
    await rejection(migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir }));
    await writeFile(
      path.join(dir, '20240102000000_broken', 'migration.sql'),
      'CREATE TABLE "Half" ("id" TEXT NOT NULL, CONSTRAINT "Half_pkey" PRIMARY KEY ("id"));\n',
    );

    await resolveMigration({
      databaseUrl: DATABASE_URL,
      schema,
      migrationsDir: dir,
      migrationName: '20240102000000_broken',
      resolution: 'rolled-back',
    });
    const result = await migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });

    expect(result.applied).toEqual(['20240102000000_broken']);
    const rows = await db.rows(schema);
    expect(rows.map((r) => [r.migration_name, r.rolled_back_at !== null, r.finished_at !== null])).toEqual([
      ['20240101000000_init', false, true],
      ['20240102000000_broken', true, false],
      ['20240102000000_broken', false, true],
    ]);
  });

  it('records resolve --applied the way Prisma does (finished, rolled-back failed row, zero steps)', async () => {
    const dir = path.join(FIXTURES, 'failing');
    await rejection(migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir }));

    await resolveMigration({
      databaseUrl: DATABASE_URL,
      schema,
      migrationsDir: dir,
      migrationName: '20240102000000_broken',
      resolution: 'applied',
    });

    const rows = await db.rows(schema);
    const marked = rows.find((r) => r.migration_name === '20240102000000_broken' && r.finished_at !== null);
    expect(marked).toMatchObject({ logs: '', applied_steps_count: 0, rolled_back_at: null });
    expect(marked!.finished_at).toEqual(marked!.started_at);
    expect((await migrationStatus({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir })).upToDate).toBe(
      true,
    );
  });

  it('reports an applied migration whose file changed, and refuses with failOnModified', async () => {
    const dir = await scratch('basic');
    await migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });
    const file = path.join(dir, '20240102000000_add_posts', 'migration.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited after it was applied\n`);
    const warnings: string[] = [];

    const result = await migrate({
      databaseUrl: DATABASE_URL,
      schema,
      migrationsDir: dir,
      logger: { info: () => undefined, warn: (m) => warnings.push(m) },
    });
    expect(result.modified).toEqual(['20240102000000_add_posts']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('`20240102000000_add_posts`');
    expect(warnings[0]).toContain('modified after they were applied');

    const strict = await rejection(
      migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir, failOnModified: true }),
    );
    expect(strict.code).toBe('MODIFIED');
    expect(strict.message).toContain('20240102000000_add_posts');

    const status = await migrationStatus({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });
    expect(status.modified).toEqual(['20240102000000_add_posts']);
    expect(status.upToDate).toBe(false);
  });

  it('does not count a change of line endings as a modification (Prisma compares LF and CRLF alike)', async () => {
    const dir = await scratch('basic');
    await migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });
    const file = path.join(dir, '20240101000000_init', 'migration.sql');
    await writeFile(file, (await readFile(file, 'utf8')).replaceAll('\n', '\r\n'));

    const result = await migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });
    expect(result.modified).toEqual([]);
  });

  it('refuses a schema that has tables but no migration history (P3005)', async () => {
    await db.pool.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
    await db.pool.query(`CREATE TABLE ${pg.escapeIdentifier(schema)}.legacy (id int)`);

    const error = await rejection(
      migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: path.join(FIXTURES, 'basic') }),
    );
    expect(error.code).toBe('P3005');
    expect(error.message).toContain('legacy');
    expect(await db.tables(schema)).toEqual(['legacy']);
  });

  it('refuses a migrations directory whose migration_lock.toml names another provider', async () => {
    const dir = await scratch('basic');
    await writeFile(path.join(dir, 'migration_lock.toml'), 'provider = "mysql"\n');

    const error = await rejection(migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir }));
    expect(error.code).toBe('P3019');
  });

  it('names the missing file when a migration directory has no migration.sql', async () => {
    const dir = await scratch('basic');
    await mkdir(path.join(dir, '20240105000000_empty_dir'));

    const error = await rejection(migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir }));
    expect(error.code).toBe('P3015');
    expect(error.message).toContain(path.join('20240105000000_empty_dir', 'migration.sql'));
  });

  it('gives up with a clear error when another migrator holds the lock too long', async () => {
    const holder = new pg.Client({ connectionString: DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
      const error = await rejection(
        migrate({
          databaseUrl: DATABASE_URL,
          schema,
          migrationsDir: path.join(FIXTURES, 'basic'),
          lockTimeoutMs: 200,
        }),
      );
      expect(error.code).toBe('LOCK_TIMEOUT');
      expect(error.message).toContain(`pg_advisory_lock(${PRISMA_ADVISORY_LOCK_KEY})`);
    } finally {
      await holder.end();
    }
  });
});

describe('deploy: concurrency', () => {
  it('applies each migration exactly once when three replicas start at the same time', async () => {
    const options = { databaseUrl: DATABASE_URL, schema, migrationsDir: path.join(FIXTURES, 'basic') };

    const results = await Promise.all([migrate(options), migrate(options), migrate(options)]);

    const winners = results.filter((r) => r.applied.length > 0);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.applied).toEqual(BASIC);
    for (const other of results.filter((r) => r.applied.length === 0)) {
      expect(other.alreadyApplied).toEqual(BASIC);
    }
    const rows = await db.rows(schema);
    expect(rows.map((r) => r.migration_name)).toEqual(BASIC);
  });
});

describe('status', () => {
  it('reports pending before and applied after a deploy', async () => {
    const dir = path.join(FIXTURES, 'basic');
    const before = await migrationStatus({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });
    expect(before).toMatchObject({
      schema,
      migrationsTableExists: false,
      applied: [],
      pending: BASIC,
      failed: [],
      modified: [],
      upToDate: false,
    });
    expect(await db.tables(schema)).toEqual([]); // status never creates anything

    await migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });

    const after = await migrationStatus({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });
    expect(after).toMatchObject({ migrationsTableExists: true, applied: BASIC, pending: [], upToDate: true });
  });

  it('reports failed migrations and migrations missing from the directory', async () => {
    await rejection(
      migrate({ databaseUrl: DATABASE_URL, schema, migrationsDir: path.join(FIXTURES, 'failing') }),
    );
    const dir = await scratch('basic');

    const status = await migrationStatus({ databaseUrl: DATABASE_URL, schema, migrationsDir: dir });
    expect(status.failed.map((f) => f.name)).toEqual(['20240102000000_broken']);
    expect(status.failed[0]!.logs).toContain('42P01');
    expect(status.applied).toEqual(['20240101000000_init']);
    expect(status.pending).toEqual(['20240102000000_add_posts', '20240103000000_add_role']);
    expect(status.upToDate).toBe(false);
  });
});
