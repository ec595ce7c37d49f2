import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { createAuthenticator, type Authenticator } from '@corral/auth-client';
import { baseEnvShape, createHttpApp, createLogger, createServiceKit, loadConfig } from '@corral/service-kit';
import type { Express } from 'express';
import pg from 'pg';
import request from 'supertest';
import { expect } from 'vitest';
import { createApp } from '../src/app.js';
import { type AuthConfig, authEnvShape } from '../src/config.js';
import type { AuthContext } from '../src/context.js';

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const SERVICE_TOKEN = 'test-internal-service-token-0123456789abcdef';
export const ADMIN = { email: 'admin@corral.test', password: 'admin-password-123' };

export const uniqueSchema = () => `auth_test_${randomBytes(5).toString('hex')}`;

export interface TestAuth {
  url: string;
  ctx: AuthContext;
  config: AuthConfig;
  schema: string;
  close(): Promise<void>;
}

/** A real auth app on an ephemeral port, in its own Postgres schema and Redis key prefix. */
export async function startAuth(
  options: { schema?: string; env?: Record<string, string> } = {},
): Promise<TestAuth> {
  const schema = options.schema ?? uniqueSchema();
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    DATABASE_URL: `${DATABASE_URL}?schema=${schema}`,
    REDIS_URL,
    REDIS_KEY_PREFIX: `corral:test:${schema}:`,
    AUTO_MIGRATE: 'true',
    COOKIE_SECURE: 'false',
    PASSWORD_SCRYPT_LOG_N: '10',
    INTERNAL_SERVICE_TOKEN: SERVICE_TOKEN,
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    ...options.env,
  };
  const config = loadConfig('auth', { ...baseEnvShape, ...authEnvShape }, env) as AuthConfig;
  const kit = createServiceKit({
    name: 'auth',
    config,
    logger: createLogger({ service: 'auth', level: 'error', stream: new PassThrough().resume() }),
  });
  let ctx: AuthContext | undefined;
  const app = await createApp(kit, { onContext: (c) => (ctx = c) });
  const server = await listen(app);
  if (!ctx) throw new Error('createApp did not build a context');
  return {
    url: baseUrl(server),
    ctx,
    config,
    schema,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await kit.lifecycle.runShutdownHooks(kit.logger);
    },
  };
}

export async function listen(app: Express): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export const baseUrl = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export interface Downstream {
  url: string;
  authenticator: Authenticator;
  close(): Promise<void>;
}

/** Another Corral service, as chat-api would be: protects /whoami with auth-client against `auth`. */
export async function startDownstream(
  auth: TestAuth,
  options: { introspectionCacheMs?: number; jwksCooldownMs?: number } = {},
): Promise<Downstream> {
  const config = loadConfig('downstream', { ...baseEnvShape }, { NODE_ENV: 'test', LOG_LEVEL: 'error' });
  const logger = createLogger({ service: 'downstream', level: 'error', stream: new PassThrough().resume() });
  const kit = createServiceKit({ name: 'downstream', config, logger });
  const authenticator = createAuthenticator({
    jwksUrl: `${auth.url}/.well-known/jwks.json`,
    issuer: auth.config.JWT_ISSUER,
    audience: auth.config.JWT_AUDIENCE,
    introspectionUrl: `${auth.url}/api/auth/introspect`,
    serviceToken: SERVICE_TOKEN,
    introspectionCacheMs: options.introspectionCacheMs ?? 200,
    introspectionNegativeCacheMs: 0,
    jwksCooldownMs: options.jwksCooldownMs ?? 0,
    logger,
  });
  const app = createHttpApp(kit, (router) => {
    router.get('/whoami', authenticator.requireAuth, (req, res) => {
      res.json(req.auth);
    });
    router.get('/admin-only', authenticator.requireAuth, authenticator.requireRole('admin'), (_req, res) => {
      res.json({ ok: true });
    });
  });
  const server = await listen(app);
  return {
    url: baseUrl(server),
    authenticator,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  user: { id: string; email: string; role: string; status: string };
}

export async function login(url: string, email: string, password: string): Promise<Session> {
  const res = await request(url).post('/api/auth/login').send({ email, password });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Session;
}

export const loginAdmin = (url: string) => login(url, ADMIN.email, ADMIN.password);

/** Registers and activates a user (through the admin API) and signs them in. */
export async function createActiveUser(url: string, admin: Session, email?: string): Promise<Session> {
  const address = email ?? `user-${randomBytes(4).toString('hex')}@corral.test`;
  const password = 'user-password-123';
  const registered = await request(url)
    .post('/api/auth/register')
    .send({ email: address, password })
    .expect(201);
  const id = (registered.body as { user: { id: string } }).user.id;
  await request(url)
    .post(`/api/auth/admin/users/${id}/activate`)
    .set('Authorization', `Bearer ${admin.accessToken}`)
    .expect(200);
  return login(url, address, password);
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Polls until `check` passes or `timeoutMs` runs out; for effects that land after a cache expires. */
export async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export function expectProblem(res: request.Response, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as { code: string; type: string; status: number };
  expect(body).toMatchObject({ code, status, type: `urn:corral:error:${code}` });
}
