import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { spawnService } from './service-process.js';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const SERVICE_TOKEN = 'chat-test-internal-service-token-0123456789';
export const ADMIN = { email: 'admin@chat.test', password: 'admin-password-123' };

declare module 'vitest' {
  export interface ProvidedContext {
    authUrl: string;
    serviceToken: string;
    admin: { email: string; password: string };
  }
}

async function sql(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * One real auth service for the whole run, as a child process in its own schema: tests sign users
 * in over HTTP and chat-api verifies their tokens against its JWKS and introspection endpoint.
 */
export default async function setup(project: TestProject) {
  // Created once up front: test files migrating in parallel would otherwise race on CREATE EXTENSION.
  await sql('CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public');
  const schema = `chat_auth_${randomBytes(4).toString('hex')}`;
  const auth = await spawnService('services/auth/src/index.ts', {
    DATABASE_URL: `${DATABASE_URL}?schema=${schema}`,
    REDIS_URL,
    REDIS_KEY_PREFIX: `corral:test:${schema}:`,
    AUTO_MIGRATE: 'true',
    COOKIE_SECURE: 'false',
    PASSWORD_SCRYPT_LOG_N: '10',
    DEFAULT_USER_STATUS: 'active',
    INTERNAL_SERVICE_TOKEN: SERVICE_TOKEN,
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    // Many test users sign in from 127.0.0.1.
    LOGIN_MAX_FAILURES_PER_IP: '10000',
  });
  project.provide('authUrl', auth.url);
  project.provide('serviceToken', SERVICE_TOKEN);
  project.provide('admin', ADMIN);

  return async () => {
    await auth.stop();
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  };
}
