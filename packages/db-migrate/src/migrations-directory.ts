import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { migrationChecksum } from './checksum.js';
import { MigrateError } from './errors.js';

export interface MigrationOnDisk {
  /** The directory name, `<timestamp>_<name>`; this is `_prisma_migrations.migration_name`. */
  name: string;
  /** Absolute path of the migration.sql file. */
  scriptPath: string;
  /** The script, or null when migration.sql is missing or unreadable. */
  script: string | null;
  checksum: string | null;
}

const PROVIDER = 'postgresql';

/**
 * Lists migrations the way Prisma 7's `listMigrations` does: every sub-directory is a migration,
 * sorted with `localeCompare`, its script read as UTF-8; migration_lock.toml must name postgresql.
 */
export async function readMigrationsDirectory(migrationsDir: string): Promise<MigrationOnDisk[]> {
  const dir = path.resolve(migrationsDir);
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    // Prisma treats a missing directory as "no migrations"; here it is almost always a wrong --dir.
    throw new MigrateError(
      'CONFIG',
      `Cannot read the migrations directory ${dir}: ${errorMessage(error)}`,
      {},
      {
        cause: error,
      },
    );
  }

  const lockfile = await readFile(path.join(dir, 'migration_lock.toml'), 'utf8').catch(() => null);
  if (lockfile !== null) {
    const provider = readProvider(lockfile);
    if (provider !== PROVIDER) {
      throw new MigrateError(
        'P3019',
        `${path.join(dir, 'migration_lock.toml')} says provider "${provider}", but this runner only applies "${PROVIDER}" migrations (P3019).`,
      );
    }
  }

  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b));

  return Promise.all(
    names.map(async (name) => {
      const scriptPath = path.join(dir, name, 'migration.sql');
      const script = await readFile(scriptPath, 'utf8').catch(() => null);
      return { name, scriptPath, script, checksum: script === null ? null : migrationChecksum(script) };
    }),
  );
}

// Same rule as prisma-engines' read_provider_from_lock_file.
function readProvider(lockfile: string): string {
  const line = lockfile.split(/\r?\n/).find((l) => l.startsWith('provider'));
  if (line === undefined) return '<PROVIDER NOT FOUND>';
  return line.replace(/^provider = /, '').replace(/^"+|"+$/g, '');
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
