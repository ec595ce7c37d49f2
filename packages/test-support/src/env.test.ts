import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, TEST_DATABASE_URL, TEST_REDIS_URL, authTestEnv, schemaEnv } from './env.js';

describe('REPO_ROOT', () => {
  it('is the workspace root, with a trailing slash', () => {
    expect(REPO_ROOT.endsWith(path.sep)).toBe(true);
    expect(existsSync(path.join(REPO_ROOT, 'pnpm-workspace.yaml'))).toBe(true);
  });
});

describe('schemaEnv', () => {
  it('points a service at its own schema and Redis key prefix on the shared servers, migrating at start', () => {
    expect(schemaEnv('chat_test_1')).toEqual({
      DATABASE_URL: `${TEST_DATABASE_URL}?schema=chat_test_1`,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: 'corral:test:chat_test_1:',
      AUTO_MIGRATE: 'true',
    });
  });

  it('takes another database, Redis and key prefix', () => {
    expect(
      schemaEnv('s', {
        databaseUrl: 'postgresql://postgres@127.0.0.1:6000/postgres',
        redisUrl: 'redis://127.0.0.1:7000',
        keyPrefix: 'corral:fuzz:s:',
      }),
    ).toEqual({
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:6000/postgres?schema=s',
      REDIS_URL: 'redis://127.0.0.1:7000',
      REDIS_KEY_PREFIX: 'corral:fuzz:s:',
      AUTO_MIGRATE: 'true',
    });
  });
});

describe('authTestEnv', () => {
  it('gives auth the service token and bootstrap admin, cheap hashing, cookies over http and room to register', () => {
    expect(authTestEnv({ serviceToken: 'token', admin: { email: 'a@b.test', password: 'pw' } })).toEqual({
      COOKIE_SECURE: 'false',
      PASSWORD_SCRYPT_LOG_N: '10',
      INTERNAL_SERVICE_TOKEN: 'token',
      BOOTSTRAP_ADMIN_EMAIL: 'a@b.test',
      BOOTSTRAP_ADMIN_PASSWORD: 'pw',
      REGISTRATION_MAX_PER_IP: '100000',
      REGISTRATION_MAX_GLOBAL: '100000',
    });
  });
});
