import { type Session, session } from '@corral/contracts';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createAuthenticator, requireScope, type Authenticator } from '@corral/auth-client';
import { baseEnvShape, createHttpApp, createLogger, createServiceKit, loadConfig } from '@corral/service-kit';
import {
  TEST_REDIS_URL,
  authTestEnv,
  dropSchema,
  listen,
  schemaEnv,
  serveApp,
  uniqueSchema as uniqueSchemaFor,
} from '@corral/test-support';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, expect } from 'vitest';
import { createApp } from '../src/app.js';
import { type AuthConfig, authEnvShape } from '../src/config.js';
import type { AuthContext } from '../src/context.js';
import { contract } from './contract.js';

export const SERVICE_TOKEN = 'test-internal-service-token-0123456789abcdef';
export const ADMIN = { email: 'admin@corral.test', password: 'admin-password-123' };

export const uniqueSchema = () => uniqueSchemaFor('auth_test');

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
    ...schemaEnv(schema),
    ...authTestEnv({ serviceToken: SERVICE_TOKEN, admin: ADMIN }),
    ...options.env,
  };
  const config = loadConfig('auth', { ...baseEnvShape, ...authEnvShape }, env) as AuthConfig;
  const kit = createServiceKit({
    name: 'auth',
    config,
    logger: createLogger({ service: 'auth', level: 'error', stream: new PassThrough().resume() }),
  });
  const app = await serveApp<AuthContext>(
    async (onContext) => contract.wrap(await createApp(kit, { onContext })),
    () => kit.lifecycle.runShutdownHooks(kit.logger),
  );
  return { ...app, config, schema };
}

export interface Downstream {
  url: string;
  authenticator: Authenticator;
  close(): Promise<void>;
}

/** Another Corral service, as chat-api would be: protects /whoami with auth-client against `auth`. */
export async function startDownstream(
  auth: TestAuth,
  options: {
    introspectionCacheMs?: number;
    jwksCooldownMs?: number;
    accessTokenCacheMs?: number;
    /** Check revocation stamps: over Redis pub/sub plus polling, or (`poll`) polling alone. */
    revocations?: 'redis' | 'poll';
    pollMs?: number;
  } = {},
): Promise<Downstream> {
  const config = loadConfig('downstream', { ...baseEnvShape }, { NODE_ENV: 'test', LOG_LEVEL: 'error' });
  let redis: Redis | undefined;
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
    accessTokenCacheMs: options.accessTokenCacheMs ?? 0,
    logger,
    ...(options.revocations
      ? {
          revocations: {
            redis: options.revocations === 'redis' ? (redis = new Redis(TEST_REDIS_URL)) : undefined,
            channel: auth.config.REVOCATION_CHANNEL,
            ...(options.pollMs ? { pollMs: options.pollMs } : {}),
          },
        }
      : {}),
  });
  const app = createHttpApp(kit, (router) => {
    router.get('/whoami', authenticator.requireAuth, (req, res) => {
      res.json(req.auth);
    });
    router.get('/admin-only', authenticator.requireAuth, authenticator.requireRole('admin'), (_req, res) => {
      res.json({ ok: true });
    });
    // As chat-api mounts its admin relays: a session, or an admin's key granted the admin scope.
    router.get(
      '/admin-relay',
      authenticator.requireAuth,
      requireScope('admin'),
      authenticator.requireRole('admin'),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
  });
  const server = await listen(app);
  return {
    url: server.url,
    authenticator,
    close: async () => {
      await server.close();
      await authenticator.close();
      redis?.disconnect();
    },
  };
}

export interface AuthStack {
  auth: TestAuth;
  /** The bootstrap admin, signed in (unless `signInAdmin: false`). */
  admin: Session;
  /** Only with the `downstream` option. */
  downstream: Downstream;
}

/**
 * The fixture most files share: before their tests, auth on a schema of its own (with `env`), the
 * bootstrap admin signed in and, if asked, a downstream service checking auth's tokens; after
 * them, everything stopped and the schema dropped. The fields are set once beforeAll has run.
 */
export function useAuthStack(
  options: {
    env?: Record<string, string>;
    downstream?: boolean | Parameters<typeof startDownstream>[1];
    signInAdmin?: boolean;
  } = {},
): AuthStack {
  const stack = {} as AuthStack;
  beforeAll(async () => {
    stack.auth = await startAuth(options.env ? { env: options.env } : {});
    if (options.downstream) {
      stack.downstream = await startDownstream(
        stack.auth,
        options.downstream === true ? {} : options.downstream,
      );
    }
    if (options.signInAdmin !== false) stack.admin = await loginAdmin(stack.auth.url);
  });
  afterAll(async () => {
    await stack.downstream?.close();
    if (!stack.auth) return;
    await stack.auth.close();
    await dropSchema(stack.auth.schema);
  });
  return stack;
}

export type { Session };

export async function login(url: string, email: string, password: string): Promise<Session> {
  const res = await request(url).post('/api/auth/login').send({ email, password });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return session.parse(res.body);
}

export const loginAdmin = (url: string) => login(url, ADMIN.email, ADMIN.password);

/** Registers and activates a user (through the admin API) and signs them in. */
export async function createActiveUser(url: string, admin: Session, email?: string): Promise<Session> {
  const address = email ?? `user-${randomBytes(4).toString('hex')}@corral.test`;
  const password = 'user-password-123';
  await request(url).post('/api/auth/register').send({ email: address, password }).expect(202);
  const id = await userIdOf(url, admin, address);
  await request(url)
    .post(`/api/auth/admin/users/${id}/activate`)
    .set('Authorization', `Bearer ${admin.accessToken}`)
    .expect(200);
  return login(url, address, password);
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Registration does not say who has an account; an admin finds the id. */
export async function userIdOf(url: string, admin: Session, email: string): Promise<string> {
  const found = await request(url)
    .get('/api/auth/admin/users')
    .query({ q: email })
    .set(bearer(admin.accessToken))
    .expect(200);
  const user = (found.body as { items: { id: string; email: string }[] }).items.find(
    (u) => u.email === email,
  );
  if (!user) throw new Error(`no account for ${email}`);
  return user.id;
}

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
