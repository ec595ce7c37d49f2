import { PrismaPg } from '@prisma/adapter-pg';
import { createRequire } from 'node:module';
import { createPgPool, loadQueryCompilerWithoutSource, type PgPool } from '@corral/service-kit/postgres';
import type pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient } from '../generated/prisma/client.js';
export { Prisma } from '../generated/prisma/client.js';
export type { Conversation, Message, MessageStatus } from '../generated/prisma/client.js';

const resolveFromHere = createRequire(import.meta.url).resolve;

export interface Database {
  prisma: PrismaClient;
  /** The same pool Prisma uses (search_path = the service's schema), for raw SQL and readiness. */
  pool: pg.Pool;
  schema: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /**
   * Longest wait for a pooled connection (queries and transaction starts alike). Past it the
   * call fails with pg's "timeout exceeded when trying to connect" or Prisma's P2028, which
   * service-kit's `toAppError` answers as 503 `service_unavailable`. Unset: the pool's own setting.
   */
  poolTimeoutMs?: number | undefined;
}

/** Prisma on a pool the caller opened (service-kit's `createPgPool` or `connectPostgres`). */
export function createDatabase({ pool, schema }: PgPool, { poolTimeoutMs }: DatabaseOptions = {}): Database {
  if (poolTimeoutMs !== undefined) {
    // pg-pool reads this at every connect(): it bounds both the wait in its queue and a new connection's set-up.
    pool.options.connectionTimeoutMillis = poolTimeoutMs;
  }
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool, { schema }),
    // A transaction start waits for the pool like any query; pg's own timeout normally fires first.
    ...(poolTimeoutMs === undefined ? {} : { transactionOptions: { maxWait: poolTimeoutMs + 250 } }),
  });
  loadQueryCompilerWithoutSource(prisma, resolveFromHere);
  return {
    prisma,
    pool,
    schema,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/**
 * Runs `work` in a transaction on one pooled connection: committed when it resolves and `keep`
 * agrees with its result, rolled back when it throws or `keep` says no.
 */
export async function inTransaction<T>(
  db: Database,
  work: (client: pg.PoolClient) => Promise<T>,
  keep: (result: T) => boolean = () => true,
): Promise<T> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query(keep(result) ? 'COMMIT' : 'ROLLBACK');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Lets Prisma go before the pool it runs on closes. */
export async function disconnectPrisma(db: Database): Promise<void> {
  await db.prisma.$disconnect();
}

/** Readiness: one round trip on the pool. */
export async function pingDatabase(db: Database): Promise<void> {
  await db.pool.query('SELECT 1');
}

/** A standalone connection (the CLI): the caller closes it. */
export function connectDatabase(databaseUrl: string, { max = 10 }: { max?: number } = {}): Database {
  return createDatabase(createPgPool(databaseUrl, { max, searchPath: true }));
}
