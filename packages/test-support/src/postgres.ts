import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TEST_DATABASE_URL } from './env.js';

/** A schema name no other test uses: `<prefix>_<random hex>`. */
export const uniqueSchema = (prefix: string): string => `${prefix}_${randomBytes(5).toString('hex')}`;

/** One statement against a database on a connection of its own (opened and closed here); its rows. */
export async function sql<Row extends Record<string, unknown> = Record<string, unknown>>(
  statement: string,
  params: unknown[] = [],
  url = TEST_DATABASE_URL,
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(statement, params)).rows;
  } finally {
    await client.end();
  }
}

/** Drops a test's schema with everything in it; a schema that is not there is no error. */
export async function dropSchema(schema: string, url = TEST_DATABASE_URL): Promise<void> {
  await sql(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`, [], url);
}
