import pg from 'pg';

export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** The URL of `database` on the same server as PG_ADMIN_URL, optionally with ?schema=. */
export function databaseUrl(database: string, schema?: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  if (schema) url.searchParams.set('schema', schema);
  return url.toString();
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function databaseExists(database: string): Promise<boolean> {
  return withAdmin(async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    return (rowCount ?? 0) > 0;
  });
}

export async function createDatabase(database: string): Promise<void> {
  await withAdmin((client) => client.query(`CREATE DATABASE ${quoteIdent(database)}`));
}

export async function dropDatabase(database: string): Promise<void> {
  await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`));
}

/** A fresh, empty database for one run: dropped first if a crashed run left it behind. */
export async function recreateDatabase(database: string): Promise<void> {
  await dropDatabase(database);
  await createDatabase(database);
}
