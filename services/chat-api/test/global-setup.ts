import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
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

/** Waits for the service-kit "listening" log line and returns the port it names. */
function waitForPort(child: ChildProcess, output: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onData = () => {
      for (const line of output().split('\n')) {
        if (!line.includes('"message":"listening"')) continue;
        const port = (JSON.parse(line) as { port?: number }).port;
        if (port) {
          child.stdout?.off('data', onData);
          resolve(port);
          return;
        }
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`auth exited with ${code} before listening:\n${output()}`)),
    );
  });
}

/**
 * One real auth service for the whole run, as a child process in its own schema: tests sign users
 * in over HTTP and chat-api verifies their tokens against its JWKS and introspection endpoint.
 */
export default async function setup(project: TestProject) {
  // Created once up front: test files migrating in parallel would otherwise race on CREATE EXTENSION.
  await sql('CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public');
  const schema = `chat_auth_${randomBytes(4).toString('hex')}`;
  const child = spawn(
    process.execPath,
    ['--conditions=corral-source', '--import', 'tsx', 'services/auth/src/index.ts'],
    {
      cwd: REPO,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        PORT: '0',
        HOST: '127.0.0.1',
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
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const port = await waitForPort(child, () => output);
  project.provide('authUrl', `http://127.0.0.1:${port}`);
  project.provide('serviceToken', SERVICE_TOKEN);
  project.provide('admin', ADMIN);

  return async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  };
}
