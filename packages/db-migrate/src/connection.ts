import pg from 'pg';
import type { ClientBase, Pool, PoolClient } from 'pg';

import { MigrateError, type MigrateErrorCode } from './errors.js';
import { errorMessage } from './migrations-directory.js';

/** Where to migrate: a URL (this library connects and disconnects), or a pool or client you own. */
export type DatabaseTarget =
  | { databaseUrl: string; pool?: never; client?: never }
  | { pool: Pool; databaseUrl?: never; client?: never }
  | { client: ClientBase; databaseUrl?: never; pool?: never };

export interface Session {
  client: ClientBase;
  schema: string;
  /** Gives the connection back (pool), closes it (URL) or leaves it open (client). */
  close(failed: boolean): Promise<void>;
}

/**
 * Opens one dedicated connection. Session-level state (the advisory lock, search_path) lives on
 * a connection, so everything in a run must go through this one client.
 */
export async function openSession(
  target: DatabaseTarget,
  schemaOption: string | undefined,
): Promise<Session> {
  if (target.databaseUrl !== undefined) {
    const { connectionString, schema: urlSchema } = splitSchemaFromUrl(target.databaseUrl);
    if (schemaOption !== undefined && urlSchema !== undefined && schemaOption !== urlSchema) {
      throw new MigrateError(
        'CONFIG',
        `The schema option "${schemaOption}" conflicts with ?schema=${urlSchema} in the database URL; give one or make them agree.`,
      );
    }
    const schema = checkSchemaName(schemaOption ?? urlSchema ?? 'public');
    const client = new pg.Client({ connectionString });
    // An idle connection that drops would otherwise surface as an unhandled 'error' event.
    client.on('error', () => undefined);
    await connectOrExplain(() => client.connect());
    return { client, schema, close: () => client.end().catch(() => undefined) };
  }

  const schema = checkSchemaName(schemaOption ?? 'public');
  if (target.pool !== undefined) {
    const pool = target.pool;
    const client: PoolClient = await connectOrExplain(() => pool.connect());
    return {
      client,
      schema,
      // A connection that failed mid-run may still hold session state: destroy rather than reuse it.
      close: async (failed) => client.release(failed),
    };
  }
  if (target.client !== undefined) {
    return { client: target.client, schema, close: async () => undefined };
  }
  throw new MigrateError('CONFIG', 'Give one of databaseUrl, pool or client.');
}

/** Prisma reads the target schema from `?schema=`; node-postgres must not see that parameter. */
export function splitSchemaFromUrl(databaseUrl: string): { connectionString: string; schema?: string } {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new MigrateError(
      'CONFIG',
      'The database URL is not a valid URL (expected postgresql://user@host:5432/db).',
    );
  }
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  return schema === undefined
    ? { connectionString: databaseUrl }
    : { connectionString: url.toString(), schema };
}

function checkSchemaName(schema: string): string {
  if (schema.length === 0 || Buffer.byteLength(schema) > 63) {
    throw new MigrateError('CONFIG', `"${schema}" is not a valid PostgreSQL schema name (1 to 63 bytes).`);
  }
  return schema;
}

async function connectOrExplain<T>(connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (error) {
    const code: MigrateErrorCode = 'CONNECTION';
    throw new MigrateError(
      code,
      `Could not connect to the database: ${errorMessage(error)}`,
      {},
      { cause: error },
    );
  }
}

export function quoteIdent(name: string): string {
  return pg.escapeIdentifier(name);
}
