import { PrismaPg } from '@prisma/adapter-pg';
import { createRequire } from 'node:module';
import { createPgPool, loadQueryCompilerWithoutSource, type PgPool } from '@corral/service-kit/postgres';
import type pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient } from '../generated/prisma/client.js';

const resolveFromHere = createRequire(import.meta.url).resolve;

export interface Database {
  prisma: PrismaClient;
  /** The same pool Prisma uses, for advisory locks and readiness. */
  pool: pg.Pool;
  schema: string;
  close(): Promise<void>;
}

/** Prisma on a pool the caller opened (service-kit's `createPgPool` or `connectPostgres`). */
export function createDatabase({ pool, schema }: PgPool): Database {
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { schema }) });
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
  return createDatabase(createPgPool(databaseUrl, { max }));
}

/**
 * Runs `work` while holding a session advisory lock, so only one replica at a time does it
 * (creating the first signing key, seeding the admin). Scoped to the schema: two schemas don't contend.
 */
export async function withAdvisoryLock<T>(db: Database, name: string, work: () => Promise<T>): Promise<T> {
  const client = await db.pool.connect();
  const lockName = `corral-auth:${db.schema}:${name}`;
  let failed = false;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockName]);
    try {
      return await work();
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockName]);
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    client.release(failed);
  }
}
