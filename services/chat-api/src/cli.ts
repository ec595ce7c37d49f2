// chat-api maintenance commands: `node dist/cli.js <command>` (or `pnpm --filter @corral/chat-api cli <command>`).
// Reads the same environment as the service (DATABASE_URL, CHAT_RETENTION_DAYS, STREAM_STALE_SECONDS, …).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, baseEnvShape, loadConfig } from '@corral/service-kit';
import { type ChatConfig, chatEnvShape } from './config.js';
import { connectDatabase } from './data/db.js';
import { applyRetention } from './domain/retention.js';
import { sweepInterruptedMessages } from './domain/sweep.js';
import { applyMigrations } from './migrations.js';

const USAGE = `usage: chat-api-cli <command>

  migrate                        apply prisma/migrations to DATABASE_URL's schema
  retention [--dry-run] [--days N]
                                 delete (or, with --dry-run, count) conversations not updated
                                 for N days (default CHAT_RETENTION_DAYS; 0 = keep forever)
  sweep                          mark replies left streaming by a dead process as interrupted
                                 (untouched for STREAM_STALE_SECONDS)

Prints one JSON line with the result. Exit codes: 0 done, 1 failed, 2 bad usage.`;

class UsageError extends Error {}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<unknown> {
  const { positionals, values } = parseArgs({
    // `pnpm run cli -- …` passes the `--` through.
    args: argv[0] === '--' ? argv.slice(1) : argv,
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean', default: false },
      days: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) throw new UsageError(USAGE);
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest.join(' ')}\n\n${USAGE}`);
  const config = loadConfig('chat-api', { ...baseEnvShape, ...chatEnvShape }, env) as ChatConfig;

  if (command === 'migrate') {
    const result = await applyMigrations(config.DATABASE_URL);
    return { command, schema: result.schema, applied: result.applied };
  }
  if (command !== 'retention' && command !== 'sweep')
    throw new UsageError(`unknown command: ${command}\n\n${USAGE}`);

  const db = connectDatabase(config.DATABASE_URL, { max: 2 });
  try {
    if (command === 'sweep') {
      const swept = await sweepInterruptedMessages(db, config.STREAM_STALE_SECONDS, []);
      return { command, interrupted: swept.length };
    }
    let days = config.CHAT_RETENTION_DAYS;
    if (values.days !== undefined) {
      if (!/^\d+$/.test(values.days))
        throw new UsageError(`--days: expected a whole number, got "${values.days}"`);
      days = Number(values.days);
    }
    const result = await applyRetention(db, days, { dryRun: values['dry-run'] });
    return {
      command,
      ...result,
      ...(days <= 0 ? { note: 'retention is off (0 days): nothing deleted' } : {}),
    };
  } finally {
    await db.close();
  }
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isMain) {
  runCli(process.argv.slice(2)).then(
    (result) => {
      console.log(JSON.stringify(result));
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(error.message);
        process.exitCode = 2;
      } else if (error instanceof ConfigError) {
        console.error(error.message);
        process.exitCode = 1;
      } else {
        console.error(`chat-api-cli: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      }
    },
  );
}
