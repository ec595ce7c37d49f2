import { fileURLToPath } from 'node:url';

/** The repository's root, with a trailing slash: services are started from there, as `pnpm start` does. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The PostgreSQL the suites share (no `?schema=`): TEST_DATABASE_URL, or the one CI and dev machines run. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** The Redis the suites share: TEST_REDIS_URL, or the one CI and dev machines run. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface SchemaEnvOptions {
  /** Base PostgreSQL URL without `?schema=`; TEST_DATABASE_URL by default. */
  databaseUrl?: string;
  /** TEST_REDIS_URL by default. */
  redisUrl?: string;
  /** `corral:test:<schema>:` by default: every Redis key of the service stays apart from other tests'. */
  keyPrefix?: string;
}

/**
 * The variables that give a Corral service a database and Redis of its own in a shared server:
 * DATABASE_URL with `?schema=<schema>`, REDIS_URL with its own key prefix, migrations at start-up.
 */
export function schemaEnv(schema: string, options: SchemaEnvOptions = {}): Record<string, string> {
  return {
    DATABASE_URL: `${options.databaseUrl ?? TEST_DATABASE_URL}?schema=${schema}`,
    REDIS_URL: options.redisUrl ?? TEST_REDIS_URL,
    REDIS_KEY_PREFIX: options.keyPrefix ?? `corral:test:${schema}:`,
    AUTO_MIGRATE: 'true',
  };
}

export interface AuthTestEnvOptions {
  /** INTERNAL_SERVICE_TOKEN: what chat-api and other services present to auth. */
  serviceToken: string;
  /** The bootstrap admin auth creates on first start. */
  admin: { email: string; password: string };
}

/** auth's settings for a test run: cheap password hashing, cookies over plain http, a known admin. */
export function authTestEnv(options: AuthTestEnvOptions): Record<string, string> {
  return {
    COOKIE_SECURE: 'false',
    PASSWORD_SCRYPT_LOG_N: '10',
    INTERNAL_SERVICE_TOKEN: options.serviceToken,
    BOOTSTRAP_ADMIN_EMAIL: options.admin.email,
    BOOTSTRAP_ADMIN_PASSWORD: options.admin.password,
    // Suites register many users from 127.0.0.1; the registration throttle has its own tests.
    REGISTRATION_MAX_PER_IP: '100000',
    REGISTRATION_MAX_GLOBAL: '100000',
  };
}
