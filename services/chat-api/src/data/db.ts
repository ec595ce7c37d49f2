import { PrismaPg } from '@prisma/adapter-pg';
import { createPgPool, type PgPool } from '@corral/service-kit/postgres';
import type pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient } from '../generated/prisma/client.js';
export { Prisma } from '../generated/prisma/client.js';
export type { Conversation, Message, MessageStatus } from '../generated/prisma/client.js';

export interface Database {
  prisma: PrismaClient;
  /** The same pool Prisma uses (search_path = the service's schema), for raw SQL and readiness. */
  pool: pg.Pool;
  schema: string;
  close(): Promise<void>;
}

/** Prisma on a pool the caller opened (service-kit's `createPgPool` or `connectPostgres`). */
export function createDatabase({ pool, schema }: PgPool): Database {
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { schema }) });
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

/** A standalone connection (the CLI): the caller closes it. */
export function connectDatabase(databaseUrl: string, { max = 10 }: { max?: number } = {}): Database {
  return createDatabase(createPgPool(databaseUrl, { max, searchPath: true }));
}
