/**
 * Why a migration run stopped. Codes that mirror a Prisma error use Prisma's code,
 * so the same words can be searched in Prisma's documentation.
 */
export type MigrateErrorCode =
  | 'CONFIG' // bad options or arguments
  | 'CONNECTION' // could not reach the database
  | 'LOCK_TIMEOUT' // another migrator held the advisory lock too long (Prisma: P1002)
  | 'P3005' // schema not empty and never migrated: baseline first
  | 'P3009' // failed migrations recorded: resolve before deploying
  | 'P3011' // resolve --rolled-back on a migration that was never applied
  | 'P3012' // resolve --rolled-back on a migration that is not failed
  | 'P3008' // resolve --applied on a migration already applied
  | 'P3015' // migration directory without migration.sql
  | 'P3017' // resolve on a migration that is not in the directory
  | 'P3018' // a migration failed while being applied
  | 'P3019' // migration_lock.toml names another provider
  | 'MODIFIED'; // applied migrations edited afterwards (only with failOnModified)

export class MigrateError extends Error {
  override readonly name = 'MigrateError';

  constructor(
    readonly code: MigrateErrorCode,
    message: string,
    readonly details: { migrationName?: string; migrationNames?: string[]; logs?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
