export { migrate, migrationStatus, resolveMigration } from './migrate.js';
export type {
  FailedMigration,
  MigrateLogger,
  MigrateOptions,
  MigrateResult,
  MigrationStatus,
  ResolveOptions,
  StatusOptions,
} from './migrate.js';
export type { DatabaseTarget } from './connection.js';
export { MigrateError, type MigrateErrorCode } from './errors.js';
export { migrationChecksum, scriptMatchesChecksum } from './checksum.js';
export {
  DEFAULT_LOCK_TIMEOUT_MS,
  PRISMA_ADVISORY_LOCK_KEY,
  PRISMA_MIGRATIONS_TABLE_DDL,
} from './prisma-table.js';
