import pg from 'pg';
import type { ServiceKit } from './kit.js';

export { loadQueryCompilerWithoutSource } from './prisma-wasm.js';

/** Splits Prisma's `?schema=` off a URL: node-postgres does not understand it. */
export function splitDatabaseUrl(databaseUrl: string): { connectionString: string; schema: string } {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema };
}

export interface PgPoolOptions {
  /** Connections in the pool. */
  max?: number;
  /** Sets search_path to the URL's schema, then public, so raw SQL can name tables unqualified. */
  searchPath?: boolean;
}

/** A pool on the URL's database, and the schema its `?schema=` named (for Prisma's adapter). */
export interface PgPool {
  pool: pg.Pool;
  schema: string;
}

export function createPgPool(
  databaseUrl: string,
  { max = 10, searchPath = false }: PgPoolOptions = {},
): PgPool {
  const { connectionString, schema } = splitDatabaseUrl(databaseUrl);
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: 5000,
    ...(searchPath ? { options: `-c search_path=${startupValue(quoteIdentifier(schema))},public` } : {}),
  });
  // A dropped idle connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return { pool, schema };
}

export interface ConnectPostgresOptions extends PgPoolOptions {
  /** The readiness check's and shutdown hook's name. */
  name?: string;
}

/**
 * A service's pool: `SELECT 1` as a readiness check, and closed by the kit's shutdown hooks.
 * Register anything built on the pool (Prisma) afterwards: hooks run in reverse, so it closes first.
 */
export function connectPostgres(
  kit: Pick<ServiceKit, 'readiness' | 'lifecycle'>,
  databaseUrl: string,
  { name = 'postgres', ...poolOptions }: ConnectPostgresOptions = {},
): PgPool {
  const connection = createPgPool(databaseUrl, poolOptions);
  kit.readiness.register(name, () => connection.pool.query('SELECT 1'));
  kit.lifecycle.onShutdown(name, () => connection.pool.end());
  return connection;
}

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The server splits the `options` start-up parameter on whitespace unless it is backslash-escaped. */
const startupValue = (value: string) => value.replace(/[\\\s]/g, (char) => `\\${char}`);
