import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuthenticatorOptions } from '../src/index.js';
import {
  SERVICE_TOKEN,
  buildHarness,
  makeSigningKey,
  startIntrospectionServer,
  startJwksServer,
  unusedUrl,
} from './helpers.js';

const PROBLEM_JSON = /^application\/problem\+json/;
const HOUR = 3_600_000;

let introspection: Awaited<ReturnType<typeof startIntrospectionServer>>;
let jwks: Awaited<ReturnType<typeof startJwksServer>>;
let keyCounter = 0;

beforeAll(async () => {
  const key = await makeSigningKey('key-1');
  [introspection, jwks] = await Promise.all([startIntrospectionServer(), startJwksServer([key.jwk])]);
});

afterAll(async () => {
  await Promise.all([introspection.close(), jwks.close()]);
});

afterEach(() => {
  introspection.setMode('normal');
});

/** A fresh key per test, so one test's cached answer never leaks into another. */
function activeKey(answer: Record<string, unknown> = {}): string {
  keyCounter += 1;
  const apiKey = `sk-corral-test${keyCounter}_${'a'.repeat(32)}`;
  introspection.setAnswer(apiKey, {
    active: true,
    sub: `user-${keyCounter}`,
    email: 'grace@example.com',
    role: 'user',
    keyId: `key-${keyCounter}`,
    keyName: 'ci pipeline',
    models: ['llama3.2'],
    expiresAt: null,
    ...answer,
  });
  return apiKey;
}

function harness(options: Partial<AuthenticatorOptions> = {}) {
  return buildHarness({ jwksUrl: jwks.url, introspectionUrl: introspection.url, ...options });
}

const me = (h: ReturnType<typeof harness>, apiKey: string) =>
  request(h.app).get('/api/me').set('Authorization', `Bearer ${apiKey}`);

describe('API keys: happy path', () => {
  it('accepts an active key and passes its models through', async () => {
    const h = harness();
    const apiKey = activeKey();
    const res = await me(h, apiKey).expect(200);
    expect(res.body.auth).toEqual({
      kind: 'api_key',
      userId: `user-${keyCounter}`,
      email: 'grace@example.com',
      role: 'user',
      tokenId: `key-${keyCounter}`,
      keyName: 'ci pipeline',
      models: ['llama3.2'],
      // An answer without scopes (an auth from before them) is what existing keys migrated to.
      scopes: ['inference'],
      // …and without ancestors (an auth from before key trees), a top key.
      ancestorKeyIds: [],
    });
    expect(res.body.locals).toEqual(res.body.auth);
  });

  it('passes models: null through as "every model"', async () => {
    const h = harness();
    const res = await me(h, activeKey({ models: null })).expect(200);
    expect(res.body.auth.models).toBeNull();
  });

  it('lets an admin key through requireRole("admin") and forbids a user key', async () => {
    const h = harness();
    const admin = activeKey({ role: 'admin' });
    const user = activeKey({ role: 'user' });
    await request(h.app).get('/api/admin').set('Authorization', `Bearer ${admin}`).expect(200);
    const denied = await request(h.app).get('/api/admin').set('Authorization', `Bearer ${user}`);
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('forbidden');
  });

  it('asks auth once for two requests with the same key', async () => {
    const h = harness({ introspectionCacheMs: HOUR });
    const apiKey = activeKey();
    const hitsBefore = introspection.hits;
    await me(h, apiKey).expect(200);
    await me(h, apiKey).expect(200);
    expect(introspection.hits).toBe(hitsBefore + 1);
  });

  it('shares one introspection call between concurrent checks of a key', async () => {
    const h = harness();
    const apiKey = activeKey();
    const hitsBefore = introspection.hits;
    const principals = await Promise.all(
      Array.from({ length: 5 }, () => h.authenticator.introspectApiKey(apiKey)),
    );
    expect(new Set(principals.map((p) => p.userId)).size).toBe(1);
    expect(introspection.hits).toBe(hitsBefore + 1);
  });

  it('retries once when the connection drops', async () => {
    const h = harness();
    const apiKey = activeKey();
    introspection.setMode('reset-once');
    const hitsBefore = introspection.hits;
    await me(h, apiKey).expect(200);
    expect(introspection.hits).toBe(hitsBefore + 2);
  });

  it('never writes the key or the service token to the logs', async () => {
    const h = harness();
    const apiKey = activeKey();
    await me(h, apiKey).expect(200);
    await me(h, 'sk-corral-unknown-key-0000000000').expect(401);
    const unreachable = harness({ introspectionUrl: await unusedUrl('/api/auth/introspect') });
    await me(unreachable, apiKey).expect(503);
    expect(h.logText()).not.toContain(apiKey);
    expect(unreachable.logText()).not.toContain(apiKey);
    expect(unreachable.logText()).not.toContain(SERVICE_TOKEN);
    expect(h.logLines().find((l) => l.message === 'request')).toMatchObject({ userId: `user-${keyCounter}` });
  });
});

describe('API keys: refused', () => {
  it('refuses an unknown key with 401 invalid_token and caches the refusal', async () => {
    const h = harness({ introspectionNegativeCacheMs: HOUR });
    const hitsBefore = introspection.hits;
    for (let i = 0; i < 3; i += 1) {
      const res = await me(h, 'sk-corral-never-issued-1234567890');
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(res.body).toMatchObject({ code: 'invalid_token' });
    }
    expect(introspection.hits).toBe(hitsBefore + 1);
  });

  it('stops accepting a revoked key once the cached answer expires', async () => {
    const h = harness({ introspectionCacheMs: 200 });
    const apiKey = activeKey();
    await me(h, apiKey).expect(200);
    introspection.setAnswer(apiKey, { active: false });
    await expect.poll(async () => (await me(h, apiKey)).status, { timeout: 5000, interval: 50 }).toBe(401);
  });

  it('refuses a key whose expiresAt has passed even if auth still calls it active', async () => {
    const h = harness();
    const res = await me(h, activeKey({ expiresAt: new Date(Date.now() - 1000).toISOString() }));
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('invalid_token');
  });
});

describe('API keys: auth service trouble is 503, never 401', () => {
  it('answers 503 and logs an error when auth refuses our service token', async () => {
    const h = harness({ serviceToken: 'wrong-service-token' });
    const res = await me(h, activeKey());
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ code: 'service_unavailable' });
    const logged = h.logLines().find((l) => l.level === 'error');
    expect(logged?.message).toMatch(/service token/);
    expect(logged).toMatchObject({ status: 401 });
  });

  it('answers 503 "auth service unreachable" when auth is down', async () => {
    const h = harness({ introspectionUrl: await unusedUrl('/api/auth/introspect') });
    const res = await me(h, activeKey());
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'service_unavailable' });
    expect(res.body.detail).toMatch(/auth service unreachable/);
  });

  it('answers 503 on a 5xx from auth and does not cache the failure', async () => {
    const h = harness();
    const apiKey = activeKey();
    introspection.setMode('server-error');
    expect((await me(h, apiKey)).status).toBe(503);
    introspection.setMode('normal');
    await me(h, apiKey).expect(200);
  });

  it('answers 503 when auth answers outside the contract', async () => {
    const h = harness();
    const apiKey = activeKey({ role: 'root' });
    expect((await me(h, apiKey)).status).toBe(503);
  });
});
