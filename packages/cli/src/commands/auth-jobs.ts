import { CliError, usageError } from '../errors.js';
import { ADMIN_EMAIL, readAdminPassword } from '../local-state.js';
import { databaseUrl, loadTargets, splitSchema, type Targets, withSchema } from '../targets.js';
import { CHAT_DIR, runAuthCli, runDbMigrateCli } from '../service-cli.js';
import { type Command, str } from './types.js';
import path from 'node:path';

const DB_FLAG = { 'database-url': { type: 'string' } } as const;

/**
 * The environment auth's CLI gets: as given when DATABASE_URL is set (Helm jobs carry the
 * service's own Secret), else the local run's database, secrets and bootstrap admin.
 */
function authEnv(targets: Targets, flag: string | undefined): NodeJS.ProcessEnv {
  if (flag === undefined && process.env.DATABASE_URL) return { ...process.env };
  const base = splitSchema(databaseUrl(targets, flag)).url;
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: withSchema(base, 'auth') };
  if (targets.local && targets.secrets && flag === undefined) {
    env.SIGNING_KEY_SECRET = targets.secrets.signingKeySecret;
    env.INTERNAL_SERVICE_TOKEN = targets.secrets.internalServiceToken;
    env.BOOTSTRAP_ADMIN_EMAIL ??= ADMIN_EMAIL;
    env.BOOTSTRAP_ADMIN_PASSWORD ??= readAdminPassword(targets.paths);
  }
  return env;
}

const delegated = (name: string, summary: string, authCommand: string): Command => ({
  name,
  summary,
  usage: `corral ${name} [--database-url URL]

Runs auth's own CLI (\`corral-auth ${authCommand}\`) against the database:
--database-url (schema auth is set), else DATABASE_URL and the rest of the environment as given
(SIGNING_KEY_SECRET, BOOTSTRAP_ADMIN_EMAIL/PASSWORD, … — how the Helm jobs run it),
else the local run with its generated secrets and admin.`,
  options: DB_FLAG,
  async run(values) {
    return runAuthCli([authCommand], authEnv(loadTargets(), str(values, 'database-url')));
  },
});

export const seedAdminCommand = delegated(
  'seed-admin',
  'create the bootstrap admin if missing (idempotent)',
  'seed-admin',
);
export const rotateSigningKeyCommand = delegated(
  'rotate-signing-key',
  'make a new active signing key (old tokens stay valid until they expire)',
  'rotate-signing-key',
);

export const rotateBootstrapKeyCommand: Command = {
  name: 'rotate-bootstrap-key',
  summary: 'issue an admin a new API key, revoke the old bootstrap key, print the new one once',
  usage: `corral rotate-bootstrap-key [--email ADMIN] [--database-url URL]

Runs auth's own CLI (\`corral-auth rotate-bootstrap-key\`): issues a new sk-corral-… key named
"bootstrap" for the admin (--email, else BOOTSTRAP_ADMIN_EMAIL, else the local run's admin), revokes
their previous bootstrap key(s) and prints the new key once, as JSON {key, keyId, revoked}.
Database as for seed-admin.`,
  options: { ...DB_FLAG, email: { type: 'string' } },
  async run(values) {
    const email = str(values, 'email');
    return runAuthCli(
      ['rotate-bootstrap-key', ...(email === undefined ? [] : ['--email', email])],
      authEnv(loadTargets(), str(values, 'database-url')),
    );
  },
};

/** auth's schema via its own CLI, chat's via @corral/db-migrate with chat-api's migrations. */
export const migrateCommand: Command = {
  name: 'migrate',
  summary: "apply every service's database migrations",
  usage: `corral migrate [--only auth|chat] [--database-url URL]

Applies auth's (corral-auth migrate) and chat-api's (corral-migrate deploy) migrations, each to
its own schema. Database: AUTH_DATABASE_URL / CHAT_DATABASE_URL for each schema, else
--database-url or DATABASE_URL with ?schema= set per service, else the local run.`,
  options: { ...DB_FLAG, only: { type: 'string' } },
  async run(values) {
    const only = str(values, 'only');
    if (only !== undefined && only !== 'auth' && only !== 'chat')
      throw usageError('--only must be auth or chat');
    const targets = loadTargets();
    const flag = str(values, 'database-url');
    const urlFor = (schema: 'auth' | 'chat'): string => {
      const specific = schema === 'auth' ? process.env.AUTH_DATABASE_URL : process.env.CHAT_DATABASE_URL;
      return specific ?? withSchema(splitSchema(databaseUrl(targets, flag)).url, schema);
    };
    if (only !== 'chat') {
      const code = await runAuthCli(['migrate'], { ...process.env, DATABASE_URL: urlFor('auth') });
      if (code !== 0) throw new CliError(`auth migrations failed (exit ${code})`);
    }
    if (only !== 'auth') {
      const url = urlFor('chat');
      const code = await runDbMigrateCli(
        [
          'deploy',
          '--schema',
          splitSchema(url).schema ?? 'chat',
          '--dir',
          path.join(CHAT_DIR, 'prisma/migrations'),
        ],
        { ...process.env, DATABASE_URL: url },
      );
      if (code !== 0) throw new CliError(`chat migrations failed (exit ${code})`);
    }
    return 0;
  },
};
