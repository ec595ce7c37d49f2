// The manifest written beside each dump (`<dump>.manifest.json`) and the comparison `verify` makes.
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { z } from 'zod';
import { CliError, errorMessage } from '../errors.js';

export const MANIFEST_SUFFIX = '.manifest.json';

export const migrationHeadSchema = z.object({
  /** The newest applied migration (`<timestamp>_<name>`), null when none is applied. */
  head: z.string().nullable(),
  applied: z.number().int().nonnegative(),
});

export const databaseFactsSchema = z.object({
  /** Per schema, from Prisma's `_prisma_migrations`. */
  migrations: z.record(z.string(), migrationHeadSchema),
  /** `schema.table` → exact row count, read in the dump's own snapshot. */
  tables: z.record(z.string(), z.number().int().nonnegative()),
});
export type DatabaseFacts = z.infer<typeof databaseFactsSchema>;

export const manifestSchema = databaseFactsSchema.extend({
  format: z.literal('corral-backup/1'),
  createdAt: z.string().datetime(),
  corralVersion: z.string(),
  schemas: z.array(z.string()),
  file: z.object({ name: z.string(), bytes: z.number().int(), sha256: z.string() }),
  encryption: z.object({ cipher: z.string(), chunkBytes: z.number().int(), kdf: z.string() }).nullable(),
});
export type Manifest = z.infer<typeof manifestSchema>;

export const manifestPathFor = (dump: string): string => `${dump}${MANIFEST_SUFFIX}`;

export function readManifest(dump: string): Manifest {
  const file = manifestPathFor(dump);
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    throw new CliError(
      `no manifest beside the dump (${file}); only backups made by \`corral backup\` can be verified`,
    );
  }
  try {
    return manifestSchema.parse(JSON.parse(raw));
  } catch (error) {
    throw new CliError(`${file} is not a valid backup manifest (${errorMessage(error)})`);
  }
}

const quote = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;

/** Row counts of every table in `schemas` and each schema's migration head, on `client` as it stands. */
export async function readDatabaseFacts(client: pg.ClientBase, schemas: string[]): Promise<DatabaseFacts> {
  const tables = await client.query<{ schemaname: string; tablename: string }>(
    `SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY($1) ORDER BY schemaname, tablename`,
    [schemas],
  );
  const facts: DatabaseFacts = { migrations: {}, tables: {} };
  for (const { schemaname, tablename } of tables.rows) {
    const result = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${quote(schemaname)}.${quote(tablename)}`,
    );
    facts.tables[`${schemaname}.${tablename}`] = Number(result.rows[0]!.n);
  }
  for (const schema of schemas) {
    if (!tables.rows.some((row) => row.schemaname === schema && row.tablename === '_prisma_migrations'))
      continue;
    const result = await client.query<{ head: string | null; applied: string }>(
      `SELECT max(migration_name) AS head, count(*) AS applied FROM ${quote(schema)}._prisma_migrations
        WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    facts.migrations[schema] = { head: result.rows[0]!.head, applied: Number(result.rows[0]!.applied) };
  }
  return facts;
}

/** Every way `restored` differs from what the manifest recorded; empty when they agree. */
export function compareFacts(expected: DatabaseFacts, restored: DatabaseFacts): string[] {
  const differences: string[] = [];
  for (const [table, rows] of Object.entries(expected.tables)) {
    const actual = restored.tables[table];
    if (actual === undefined) differences.push(`${table}: in the manifest (${rows} rows) but not restored`);
    else if (actual !== rows) differences.push(`${table}: manifest ${rows} rows, restored ${actual}`);
  }
  for (const table of Object.keys(restored.tables)) {
    if (!(table in expected.tables)) differences.push(`${table}: restored but not in the manifest`);
  }
  const schemas = new Set([...Object.keys(expected.migrations), ...Object.keys(restored.migrations)]);
  for (const schema of schemas) {
    const want = expected.migrations[schema];
    const got = restored.migrations[schema];
    if (want?.head !== got?.head || want?.applied !== got?.applied) {
      differences.push(
        `${schema} migrations: manifest ${want?.head ?? 'none'} (${want?.applied ?? 0} applied), restored ${got?.head ?? 'none'} (${got?.applied ?? 0} applied)`,
      );
    }
  }
  return differences;
}
