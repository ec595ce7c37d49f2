import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function uniqueSchema(): string {
  return `mig_test_${randomBytes(6).toString('hex')}`;
}

/** A scratch copy of one or more fixture directories merged together, safe to edit. */
export async function scratchMigrations(...fixtures: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'corral-migrate-'));
  for (const fixture of fixtures) await cp(path.join(FIXTURES, fixture), dir, { recursive: true });
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface PrismaMigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

/** One pool per test file for assertions; migrations themselves use their own connections. */
export function createInspector() {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  return {
    pool,
    async rows(schema: string): Promise<PrismaMigrationRow[]> {
      const result = await pool.query<PrismaMigrationRow>(
        `SELECT * FROM ${pg.escapeIdentifier(schema)}._prisma_migrations ORDER BY started_at, migration_name`,
      );
      return result.rows;
    },
    async tables(schema: string): Promise<string[]> {
      const result = await pool.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
        [schema],
      );
      return result.rows.map((row) => row.table_name);
    },
    async dropSchema(schema: string): Promise<void> {
      await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    },
    end: () => pool.end(),
  };
}
