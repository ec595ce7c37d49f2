import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
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

/** Splits Prisma's `?schema=` off a URL: node-postgres does not understand it. */
export function splitDatabaseUrl(databaseUrl: string): { connectionString: string; schema: string } {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema };
}

export function connectDatabase(databaseUrl: string, { max = 10 }: { max?: number } = {}): Database {
  const { connectionString, schema } = splitDatabaseUrl(databaseUrl);
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: 5000,
    // Raw SQL (appends, upserts, the sweep) names tables unqualified.
    options: `-c search_path="${schema.replaceAll('"', '""')}",public`,
  });
  // A dropped idle connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
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
