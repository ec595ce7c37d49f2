import { defineConfig } from 'prisma/config';

// Migrations are applied by @corral/db-migrate (AUTO_MIGRATE or `corral-migrate deploy`), not `prisma migrate`;
// the URL is only needed by Prisma commands that talk to a database.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/corral?schema=chat' },
});
