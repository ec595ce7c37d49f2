import { createdApiKey } from '@corral/contracts';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  SERVICE_TOKEN,
  bearer,
  createActiveUser,
  eventually,
  expectProblem,
  type Session,
  useAuthStack,
} from './helpers.js';

const CACHE_MS = 200;
const stack = useAuthStack({ downstream: { introspectionCacheMs: CACHE_MS } });

async function createKey(session: Session, body: Record<string, unknown> = { name: 'laptop' }) {
  const res = await request(stack.auth.url)
    .post('/api/auth/api-keys')
    .set(bearer(session.accessToken))
    .send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return createdApiKey.parse(res.body);
}

const introspect = (token: string, serviceToken = SERVICE_TOKEN) =>
  request(stack.auth.url).post('/api/auth/introspect').set(bearer(serviceToken)).send({ token });

describe('api keys: happy path', () => {
  it('creates a key shown once, lists it by prefix, and it works through auth-client', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const created = await createKey(user, { name: 'ci', models: ['llama3.2:3b'] });
    expect(created.key).toMatch(/^sk-corral-[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.apiKey.prefix)).toBe(true);

    const list = await request(stack.auth.url)
      .get('/api/auth/api-keys')
      .set(bearer(user.accessToken))
      .expect(200);
    expect(list.body.items).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(created.key);
    const stored = await stack.auth.ctx.db.prisma.apiKey.findUniqueOrThrow({
      where: { id: created.apiKey.id },
    });
    expect(stored.keyHash).not.toContain(created.key.slice(10));

    const who = await request(stack.downstream.url).get('/whoami').set(bearer(created.key)).expect(200);
    expect(who.body).toMatchObject({
      kind: 'api_key',
      userId: user.user.id,
      role: 'user',
      tokenId: created.apiKey.id,
      keyName: 'ci',
      models: ['llama3.2:3b'],
    });

    const answer = await introspect(created.key).expect(200);
    expect(answer.body).toEqual({
      active: true,
      sub: user.user.id,
      email: user.user.email,
      role: 'user',
      keyId: created.apiKey.id,
      scopes: ['inference'],
      keyName: 'ci',
      models: ['llama3.2:3b'],
      expiresAt: null,
      ancestorKeyIds: [],
    });
    await eventually(async () => {
      const row = await stack.auth.ctx.db.prisma.apiKey.findUniqueOrThrow({
        where: { id: created.apiKey.id },
      });
      expect(row.lastUsedAt).not.toBeNull();
    });
    // The key also authenticates against auth itself.
    await request(stack.auth.url).get('/api/auth/me').set(bearer(created.key)).expect(200);
  });

  it('a revoked key fails through auth-client once the introspection cache has expired', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const { key, apiKey } = await createKey(user);
    await request(stack.downstream.url).get('/whoami').set(bearer(key)).expect(200);
    await request(stack.auth.url)
      .delete(`/api/auth/api-keys/${apiKey.id}`)
      .set(bearer(user.accessToken))
      .expect(204);
    expect((await introspect(key).expect(200)).body).toEqual({ active: false });
    await eventually(async () => {
      expectProblem(
        await request(stack.downstream.url).get('/whoami').set(bearer(key)),
        401,
        'invalid_token',
      );
    }, CACHE_MS + 3000);
  });

  it("a disabled user's keys stop working", async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const { key } = await createKey(user);
    await request(stack.downstream.url).get('/whoami').set(bearer(key)).expect(200);
    await request(stack.auth.url)
      .post(`/api/auth/admin/users/${user.user.id}/disable`)
      .set(bearer(stack.admin.accessToken))
      .expect(200);
    expect((await introspect(key).expect(200)).body).toEqual({ active: false });
    await eventually(async () => {
      expectProblem(
        await request(stack.downstream.url).get('/whoami').set(bearer(key)),
        401,
        'invalid_token',
      );
    }, CACHE_MS + 3000);
  });

  it('admins issue keys for a service account; expired keys are inactive', async () => {
    const service = await createActiveUser(stack.auth.url, stack.admin, 'svc-batch@corral.test');
    const res = await request(stack.auth.url)
      .post(`/api/auth/admin/users/${service.user.id}/api-keys`)
      .set(bearer(stack.admin.accessToken))
      .send({ name: 'batch-jobs', expiresAt: new Date(Date.now() + 3600_000).toISOString() })
      .expect(201);
    const answer = await introspect(res.body.key as string).expect(200);
    expect(answer.body).toMatchObject({ active: true, sub: service.user.id, keyName: 'batch-jobs' });
    expect(typeof answer.body.expiresAt).toBe('string');

    await stack.auth.ctx.db.prisma.apiKey.update({
      where: { id: res.body.apiKey.id as string },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect((await introspect(res.body.key as string).expect(200)).body).toEqual({ active: false });
  });
});

describe('api keys: error paths', () => {
  it('rejects bad input, past expiry and unknown ids', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const post = (body: unknown) =>
      request(stack.auth.url)
        .post('/api/auth/api-keys')
        .set(bearer(user.accessToken))
        .send(body as object);
    expectProblem(await post({}), 400, 'validation_failed');
    expectProblem(await post({ name: 'x', models: 'all' }), 400, 'validation_failed');
    expectProblem(await post({ name: 'x', expiresAt: '2001-01-01T00:00:00Z' }), 400, 'validation_failed');
    expectProblem(
      await request(stack.auth.url)
        .delete('/api/auth/api-keys/00000000-0000-4000-8000-000000000000')
        .set(bearer(user.accessToken)),
      404,
      'not_found',
    );
    expectProblem(
      await request(stack.auth.url).delete('/api/auth/api-keys/not-a-uuid').set(bearer(user.accessToken)),
      400,
      'validation_failed',
    );
  });

  it('introspection says inactive for unknown or malformed keys', async () => {
    expect((await introspect('sk-corral-made-up-key').expect(200)).body).toEqual({ active: false });
    expect((await introspect('not-even-a-key').expect(200)).body).toEqual({ active: false });
    expectProblem(
      await request(stack.auth.url).post('/api/auth/introspect').set(bearer(SERVICE_TOKEN)).send({}),
      400,
      'validation_failed',
    );
  });
});

describe('api keys: security', () => {
  it('introspection needs the internal service token', async () => {
    expectProblem(
      await request(stack.auth.url).post('/api/auth/introspect').send({ token: 'sk-corral-x' }),
      401,
      'unauthorized',
    );
    expectProblem(await introspect('sk-corral-x', 'wrong-service-token'), 401, 'unauthorized');
    // A user's access token is not a service token.
    expectProblem(await introspect('sk-corral-x', stack.admin.accessToken), 401, 'unauthorized');
  });

  it("users cannot see or revoke someone else's keys", async () => {
    const owner = await createActiveUser(stack.auth.url, stack.admin);
    const other = await createActiveUser(stack.auth.url, stack.admin);
    const { key, apiKey } = await createKey(owner);
    const list = await request(stack.auth.url)
      .get('/api/auth/api-keys')
      .set(bearer(other.accessToken))
      .expect(200);
    expect(list.body.items).toEqual([]);
    expectProblem(
      await request(stack.auth.url).delete(`/api/auth/api-keys/${apiKey.id}`).set(bearer(other.accessToken)),
      404,
      'not_found',
    );
    expect((await introspect(key).expect(200)).body.active).toBe(true);
    expectProblem(await request(stack.auth.url).get('/api/auth/api-keys'), 401, 'unauthorized');
  });

  it('a user key cannot pass requireRole(admin) downstream, nor issue keys for others', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const { key } = await createKey(user);
    expectProblem(await request(stack.downstream.url).get('/admin-only').set(bearer(key)), 403, 'forbidden');
    expectProblem(
      await request(stack.auth.url)
        .post(`/api/auth/admin/users/${stack.admin.user.id}/api-keys`)
        .set(bearer(user.accessToken))
        .send({ name: 'sneaky' }),
      403,
      'forbidden',
    );
  });
});
