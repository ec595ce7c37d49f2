import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fields, expectAlive, oddString, snapshotUser } from '../support/fuzz.js';
import { type User, call, loginAdmin, signUp } from '../support/http.js';
import { fuzzAuthorization, fuzzInvalidBodies, fuzzOddValues, fuzzQueries } from '../support/properties.js';
import { fuzzStack, serviceUrls, snapshotDb } from '../support/shared-stack.js';
import { INTERNAL_SERVICE_TOKEN } from '../support/stack.js';

const credentials: Fields = { email: { kind: 'string', max: 254 }, password: { kind: 'string', max: 256 } };
const apiKeyFields: Fields = {
  name: { kind: 'string', max: 100 },
  models: { kind: 'nullableStringArray' },
  expiresAt: { kind: 'nullableString' },
};

let victim: User;
let admin: User;
let scratch: User;
let before: unknown;
const auth = () => fuzzStack().authUrl;

beforeAll(async () => {
  const { authUrl } = fuzzStack();
  [victim, admin, scratch] = await Promise.all([
    signUp(authUrl, 'auth-victim'),
    loginAdmin(authUrl),
    signUp(authUrl, 'auth-scratch'),
  ]);
  const key = await call(authUrl, '/api/auth/api-keys', {
    token: victim.token,
    body: { name: 'victim key' },
  });
  expect(key.status).toBe(201);
  before = await snapshotUser(victim.id, snapshotDb());
});

afterAll(async () => {
  if (victim) expect(await snapshotUser(victim.id, snapshotDb())).toEqual(before);
});

describe('auth: invalid bodies are 4xx problem+json and change nothing', () => {
  it('sessions, API keys and introspection', { timeout: 120_000 }, async () => {
    const routes = [
      {
        path: '/api/auth/register',
        fields: {
          ...credentials,
          name: { kind: 'string', max: 200 },
          registrationCode: { kind: 'string', max: 256 },
        },
      },
      { path: '/api/auth/login', fields: credentials },
      { path: '/api/auth/refresh', fields: { refreshToken: { kind: 'string', max: 512 } } },
      {
        path: '/api/auth/logout',
        fields: { refreshToken: { kind: 'string', max: 512 } },
        emptyIsValid: true,
      },
      { path: '/api/auth/api-keys', fields: apiKeyFields, token: victim.token },
      {
        path: '/api/auth/introspect',
        fields: { token: { kind: 'string', max: 512 } },
        token: INTERNAL_SERVICE_TOKEN,
      },
    ] satisfies Array<{ path: string; fields: Fields; token?: string; emptyIsValid?: boolean }>;
    for (const route of routes) {
      await fuzzInvalidBodies(auth(), { method: 'POST', shape: 'problem', numRuns: 60, ...route });
      await expectAlive(serviceUrls());
    }
  });

  it('admin routes aimed at the victim', async () => {
    const user = `/api/auth/admin/users/${victim.id}`;
    await fuzzInvalidBodies(auth(), {
      method: 'PUT',
      path: `${user}/role`,
      fields: { role: { kind: 'string' } },
      shape: 'problem',
      token: admin.token,
    });
    await fuzzInvalidBodies(auth(), {
      method: 'POST',
      path: `${user}/password`,
      fields: { password: { kind: 'string', max: 256 } },
      shape: 'problem',
      token: admin.token,
    });
    await fuzzInvalidBodies(auth(), {
      method: 'POST',
      path: `${user}/api-keys`,
      fields: apiKeyFields,
      shape: 'problem',
      token: admin.token,
    });
    await expectAlive(serviceUrls());
  });
});

describe('auth: hostile queries, paths and headers', () => {
  it('read routes never answer 5xx', async () => {
    await fuzzQueries(auth(), {
      path: '/api/auth/admin/users',
      queryNames: ['q', 'status', 'role', 'limit', 'cursor'],
      shape: 'problem',
      token: admin.token,
    });
    await fuzzQueries(auth(), {
      path: '/api/auth/admin/audit',
      queryNames: ['limit', 'cursor', 'before', 'action', 'actorId'],
      shape: 'problem',
      token: admin.token,
    });
    await fuzzQueries(auth(), {
      path: '/api/auth/me',
      queryNames: ['x'],
      shape: 'problem',
      token: victim.token,
    });
    await fuzzQueries(auth(), {
      path: '/.well-known/jwks.json',
      queryNames: ['kid'],
      shape: 'problem',
      numRuns: 20,
    });
    await expectAlive(serviceUrls());
  });

  it('odd user ids in admin paths are 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        oddString().filter((id) => id.trim() !== ''),
        fc.constantFrom('', '/activate', '/disable', '/api-keys'),
        async (id, tail) => {
          const path = `/api/auth/admin/users/${encodeURIComponent(id.replace(/[\ud800-\udfff]/g, '?'))}${tail}`;
          const reply = await call(auth(), path, {
            token: admin.token,
            method: tail === '/activate' || tail === '/disable' ? 'POST' : 'GET',
          });
          expect(reply.status, `${path} → ${reply.status}`).toBeGreaterThanOrEqual(400);
          expect(reply.status, `${path} → ${reply.status}`).toBeLessThan(500);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('hostile Authorization headers are 401', async () => {
    await fuzzAuthorization(auth(), { method: 'GET', path: '/api/auth/me' }, 'problem');
    await fuzzAuthorization(
      auth(),
      { method: 'POST', path: '/api/auth/introspect', body: '{"token":"x"}' },
      'problem',
      20,
    );
    await fuzzAuthorization(auth(), { method: 'GET', path: '/api/auth/admin/users' }, 'problem', 20);
  });

  it('hostile refresh cookies are 401', async () => {
    await fc.assert(
      fc.asyncProperty(oddString(), async (value) => {
        const cookie = `corral_refresh=${encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '?'))}`;
        const reply = await call(auth(), '/api/auth/refresh', { method: 'POST', headers: { cookie } });
        // 401, or 431 from Node itself for a cookie longer than its header limit.
        expect([401, 431], `${cookie.slice(0, 200)} → ${reply.status} ${reply.text.slice(0, 200)}`).toContain(
          reply.status,
        );
      }),
      { numRuns: 30 },
    );
  });
});

describe('auth: odd but well-typed values never cause a 5xx', () => {
  it('register, login and API key names', async () => {
    await fuzzOddValues(auth(), {
      method: 'POST',
      path: '/api/auth/register',
      shape: 'problem',
      numRuns: 30,
      body: fc.record({
        email: fc.oneof(
          oddString(),
          oddString().map((s) => `${s}@fuzz.test`),
        ),
        password: oddString(),
        name: oddString(),
      }),
    });
    await fuzzOddValues(auth(), {
      method: 'POST',
      path: '/api/auth/login',
      shape: 'problem',
      numRuns: 30,
      body: fc.record({ email: oddString(), password: oddString() }),
    });
    await fuzzOddValues(auth(), {
      method: 'POST',
      path: '/api/auth/api-keys',
      shape: 'problem',
      token: scratch.token,
      numRuns: 30,
      // Lone surrogates in `models` are a known 500 (unstorable-text.test.ts): left out here.
      body: fc.record({
        name: oddString(),
        models: fc.array(
          oddString().map((m) => m.replace(/[\ud800-\udfff]/g, '?')),
          { maxLength: 3 },
        ),
      }),
    });
    await expectAlive(serviceUrls());
  });

  it('prototype-pollution keys in a registration do not make an admin', async () => {
    const email = `proto-${Date.now()}@fuzz.test`;
    const body = `{"email":"${email}","password":"proto-password-123","__proto__":{"role":"admin","status":"active"},"constructor":{"prototype":{"role":"admin"}},"role":"admin"}`;
    const res = await fetch(`${auth()}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBeLessThan(500);
    const login = await call(auth(), '/api/auth/login', { body: { email, password: 'proto-password-123' } });
    if (login.status === 200) {
      expect((login.json as { user: { role: string } }).user.role).toBe('user');
      const token = (login.json as { accessToken: string }).accessToken;
      expect((await call(auth(), '/api/auth/admin/users', { token })).status).toBe(403);
    }
  });
});
