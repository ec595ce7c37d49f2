import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { dropSchema, TEST_DATABASE_URL, uniqueSchema as uniqueSchemaFor } from '@corral/test-support';
import pg from 'pg';
import type { MigrationRow } from '../src/prisma-table.js';

export const DATABASE_URL = TEST_DATABASE_URL;
export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

export const uniqueSchema = (): string => uniqueSchemaFor('mig_test');

/** A scratch copy of one or more fixture directories merged together, safe to edit. */
export async function scratchMigrations(...fixtures: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'corral-migrate-'));
  for (const fixture of fixtures) await cp(path.join(FIXTURES, fixture), dir, { recursive: true });
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** One pool per test file for assertions; migrations themselves use their own connections. */
export function createInspector() {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  return {
    pool,
    async rows(schema: string): Promise<MigrationRow[]> {
      const result = await pool.query<MigrationRow>(
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
    dropSchema: (schema: string) => dropSchema(schema),
    end: () => pool.end(),
  };
}
