#!/usr/bin/env node
import { parseArgs } from 'node:util';

import { MigrateError } from './errors.js';
import { migrate, migrationStatus, resolveMigration, type MigrationStatus } from './migrate.js';

const USAGE = `Usage:
  corral-migrate deploy  --schema <name> --dir <migrations dir> [--database-url <url>] [--fail-on-modified] [--lock-timeout <ms>]
  corral-migrate status  --schema <name> --dir <migrations dir> [--database-url <url>]
  corral-migrate resolve --schema <name> --dir <migrations dir> (--rolled-back <migration> | --applied <migration>) [--database-url <url>]

--database-url defaults to $DATABASE_URL; --schema defaults to its ?schema=, else "public".
Exit codes: 0 success (status: up to date), 1 failure (status: something pending, failed or modified), 2 bad usage.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      schema: { type: 'string' },
      dir: { type: 'string' },
      'database-url': { type: 'string' },
      'fail-on-modified': { type: 'boolean' },
      'lock-timeout': { type: 'string' },
      'rolled-back': { type: 'string' },
      applied: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const [command, ...extra] = positionals;
  if (command === undefined) throw new UsageError('missing command (deploy, status or resolve)');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (values.dir === undefined) throw new UsageError('--dir <migrations dir> is required');
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  if (databaseUrl === undefined || databaseUrl === '') {
    throw new UsageError('no database URL: pass --database-url or set DATABASE_URL');
  }
  const target = { databaseUrl, schema: values.schema, migrationsDir: values.dir };

  switch (command) {
    case 'deploy': {
      const lockTimeoutMs = values['lock-timeout'] === undefined ? undefined : Number(values['lock-timeout']);
      if (lockTimeoutMs !== undefined && !(lockTimeoutMs > 0)) {
        throw new UsageError('--lock-timeout must be a positive number of milliseconds');
      }
      const result = await migrate({
        ...target,
        lockTimeoutMs,
        failOnModified: values['fail-on-modified'] === true,
        logger: {
          info: (message) => console.log(message),
          warn: (message) => console.error(`warning: ${message}`),
        },
      });
      console.log(
        result.applied.length === 0
          ? `No pending migrations to apply (schema "${result.schema}"; ${result.alreadyApplied.length} already applied).`
          : `${result.applied.length} migration(s) applied to schema "${result.schema}".`,
      );
      return 0;
    }
    case 'status': {
      const status = await migrationStatus(target);
      printStatus(status);
      return status.upToDate ? 0 : 1;
    }
    case 'resolve': {
      const rolledBack = values['rolled-back'];
      const applied = values.applied;
      if ((rolledBack === undefined) === (applied === undefined)) {
        throw new UsageError(
          'resolve needs exactly one of --rolled-back <migration> or --applied <migration>',
        );
      }
      const migrationName = (rolledBack ?? applied) as string;
      const resolution = rolledBack !== undefined ? 'rolled-back' : 'applied';
      await resolveMigration({ ...target, migrationName, resolution });
      console.log(`Migration ${migrationName} marked as ${resolution}.`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}" (expected deploy, status or resolve)`);
  }
}

function printStatus(status: MigrationStatus): void {
  const lines = [
    `Schema "${status.schema}": ${status.applied.length} applied, ${status.pending.length} pending.`,
  ];
  if (!status.migrationsTableExists) lines.push('No _prisma_migrations table yet.');
  for (const name of status.pending) lines.push(`pending   ${name}`);
  for (const f of status.failed) lines.push(`failed    ${f.name} (started at ${f.startedAt.toISOString()})`);
  for (const name of status.modified)
    lines.push(`modified  ${name} (migration.sql changed after it was applied)`);
  for (const name of status.notInDirectory)
    lines.push(`missing   ${name} (applied, but not in the directory)`);
  if (status.upToDate) lines.push('Database schema is up to date.');
  console.log(lines.join('\n'));
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const code = (error as { code?: unknown }).code;
    if (error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'))) {
      console.error(`corral-migrate: ${oneLine((error as Error).message)} (see corral-migrate --help)`);
      process.exitCode = 2;
      return;
    }
    const message = error instanceof MigrateError || error instanceof Error ? error.message : String(error);
    console.error(`corral-migrate: ${oneLine(message)}`);
    process.exitCode = 1;
  },
);
