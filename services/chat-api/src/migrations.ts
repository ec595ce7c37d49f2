import { fileURLToPath } from 'node:url';
import { migrate, type MigrateResult } from '@corral/db-migrate';

/** prisma/migrations, found from src/ (tsx, tests) and dist/ (built) alike. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../prisma/migrations', import.meta.url));

export function applyMigrations(
  databaseUrl: string,
  logger?: { info(message: string): void; warn(message: string): void },
): Promise<MigrateResult> {
  return migrate({ databaseUrl, migrationsDir: MIGRATIONS_DIR, ...(logger ? { logger } : {}) });
}
