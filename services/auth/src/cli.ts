#!/usr/bin/env node
// Jobs for Helm hooks and operators: `corral-auth <command>`. Reads the same environment as the service.
import { createLogger, createMetrics, loadConfig, baseEnvShape } from '@corral/service-kit';
import { type AuthConfig, authEnvShape, checkAuthConfig } from './config.js';
import { createAuthContext, type AuthContext } from './context.js';
import { connectDatabase } from './data/db.js';
import { rotateBootstrapKey, seedBootstrapAdmin } from './domain/bootstrap.js';
import { applyMigrations } from './migrations.js';

const USAGE = `usage: corral-auth <command>

  migrate              apply prisma/migrations to the DATABASE_URL schema
  seed-admin           create the BOOTSTRAP_ADMIN_* admin (and API key) if missing; idempotent
  rotate-signing-key   make a new active signing key; old keys verify until their tokens expire
  rotate-bootstrap-key [--email <admin e-mail>]
                       issue a new API key for the admin (--email, else BOOTSTRAP_ADMIN_EMAIL),
                       revoke their previous bootstrap key(s) and print the new key once`;

/** `--email x` or `--email=x` after the command; undefined when absent. */
function emailFlag(args: string[]): string | undefined {
  for (const [index, arg] of args.entries()) {
    if (arg === '--email') return args[index + 1];
    if (arg.startsWith('--email=')) return arg.slice('--email='.length);
  }
  return undefined;
}

async function withContext<T>(config: AuthConfig, work: (ctx: AuthContext) => Promise<T>): Promise<T> {
  const logger = createLogger({ service: 'auth-cli', level: config.LOG_LEVEL });
  const db = connectDatabase(config.DATABASE_URL, { max: 2 });
  try {
    return await work(
      createAuthContext({ config, logger, registry: createMetrics().registry, db, redis: undefined }),
    );
  } finally {
    await db.close();
  }
}

async function main(command: string | undefined, args: string[]): Promise<number> {
  if (!command || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'migrate') {
    // The migration job needs only the database: no signing or service secrets in its environment.
    const { DATABASE_URL } = loadConfig('auth', { DATABASE_URL: authEnvShape.DATABASE_URL });
    const result = await applyMigrations(DATABASE_URL, {
      info: (message) => console.log(message),
      warn: (message) => console.error(message),
    });
    console.log(
      `schema ${result.schema}: applied ${result.applied.length}, already applied ${result.alreadyApplied.length}`,
    );
    return 0;
  }
  const config = loadConfig('auth', { ...baseEnvShape, ...authEnvShape }) as AuthConfig;
  checkAuthConfig(config);
  switch (command) {
    case 'seed-admin':
      return withContext(config, async (ctx) => {
        const result = await seedBootstrapAdmin(ctx);
        if (!result) {
          console.error('BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD are not set; nothing to do');
          return 1;
        }
        console.log(JSON.stringify(result));
        return 0;
      });
    case 'rotate-signing-key':
      return withContext(config, async (ctx) => {
        const result = await ctx.keys.rotate();
        await ctx.audit.record({
          action: 'signing_key.rotated',
          targetType: 'signing_key',
          targetId: result.kid,
          details: { retired: result.retired, via: 'cli' },
        });
        console.log(JSON.stringify(result));
        return 0;
      });
    case 'rotate-bootstrap-key':
      return withContext(config, async (ctx) => {
        const email = emailFlag(args) ?? config.BOOTSTRAP_ADMIN_EMAIL;
        if (!email) {
          console.error('whose key? pass --email <admin e-mail> (or set BOOTSTRAP_ADMIN_EMAIL)');
          return 2;
        }
        // Always a fresh key: re-registering BOOTSTRAP_ADMIN_API_KEY would collide with itself.
        const result = await rotateBootstrapKey(ctx, email);
        // The only time the key is shown: the caller's terminal.
        console.log(JSON.stringify(result));
        return 0;
      });
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
