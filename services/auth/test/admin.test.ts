import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { seedBootstrapAdmin } from '../src/domain/bootstrap.js';
import { ADMIN, bearer, createActiveUser, expectProblem, login, useAuthStack } from './helpers.js';

const BOOTSTRAP_KEY = `sk-corral-${'b'.repeat(43)}`;
const stack = useAuthStack({ env: { BOOTSTRAP_ADMIN_API_KEY: BOOTSTRAP_KEY } });

const asAdmin = (req: request.Test) => req.set(bearer(stack.admin.accessToken));

describe('admin: users', () => {
  it('lists and searches users with cursor paging', async () => {
    for (const name of ['page-a', 'page-b', 'page-c'])
      await createActiveUser(stack.auth.url, stack.admin, `${name}@paging.test`);
    const first = await asAdmin(request(stack.auth.url).get('/api/auth/admin/users?q=PAGING&limit=2')).expect(
      200,
    );
    expect(first.body.items.map((u: { email: string }) => u.email)).toEqual([
      'page-a@paging.test',
      'page-b@paging.test',
    ]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await asAdmin(
      request(stack.auth.url).get(
        `/api/auth/admin/users?q=paging&limit=2&cursor=${first.body.nextCursor as string}`,
      ),
    ).expect(200);
    expect(second.body).toMatchObject({ items: [{ email: 'page-c@paging.test' }], nextCursor: null });

    const admins = await asAdmin(request(stack.auth.url).get('/api/auth/admin/users?role=admin')).expect(200);
    expect(admins.body.items.map((u: { email: string }) => u.email)).toEqual([ADMIN.email]);
  });

  it('changes a role, which takes effect on the next token', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const res = await asAdmin(request(stack.auth.url).put(`/api/auth/admin/users/${user.user.id}/role`))
      .send({ role: 'admin' })
      .expect(200);
    expect(res.body.user.role).toBe('admin');
    const again = await login(stack.auth.url, user.user.email, 'user-password-123');
    expect(again.user.role).toBe('admin');
    await request(stack.auth.url).get('/api/auth/admin/users').set(bearer(again.accessToken)).expect(200);
  });

  it('resets a password and signs the user out everywhere', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    await asAdmin(request(stack.auth.url).post(`/api/auth/admin/users/${user.user.id}/password`))
      .send({ password: 'brand-new-password' })
      .expect(204);
    await request(stack.auth.url)
      .post('/api/auth/refresh')
      .send({ refreshToken: user.refreshToken })
      .expect(401);
    expectProblem(
      await request(stack.auth.url)
        .post('/api/auth/login')
        .send({ email: user.user.email, password: 'user-password-123' }),
      401,
      'invalid_credentials',
    );
    await login(stack.auth.url, user.user.email, 'brand-new-password');
  });

  it('answers unknown users 404, bad ids and bodies 400, and refuses to disable yourself (409)', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    expectProblem(
      await asAdmin(request(stack.auth.url).get(`/api/auth/admin/users/${missing}`)),
      404,
      'not_found',
    );
    expectProblem(
      await asAdmin(request(stack.auth.url).post(`/api/auth/admin/users/${missing}/activate`)),
      404,
      'not_found',
    );
    expectProblem(
      await asAdmin(request(stack.auth.url).get('/api/auth/admin/users/nope')),
      400,
      'validation_failed',
    );
    expectProblem(
      await asAdmin(request(stack.auth.url).put(`/api/auth/admin/users/${stack.admin.user.id}/role`)).send({
        role: 'root',
      }),
      400,
      'validation_failed',
    );
    expectProblem(
      await asAdmin(request(stack.auth.url).get('/api/auth/admin/users?limit=100000')),
      400,
      'validation_failed',
    );
    expectProblem(
      await asAdmin(request(stack.auth.url).post(`/api/auth/admin/users/${stack.admin.user.id}/disable`)),
      409,
      'conflict',
    );
  });
});

describe('admin: bootstrap', () => {
  it('seeded the admin and its API key once; seeding again changes nothing', async () => {
    const again = await seedBootstrapAdmin(stack.auth.ctx);
    expect(again).toMatchObject({ userId: stack.admin.user.id, userCreated: false, apiKeyCreated: false });
    expect(await stack.auth.ctx.db.prisma.user.count({ where: { role: 'admin' } })).toBeGreaterThanOrEqual(1);
    expect(await stack.auth.ctx.db.prisma.apiKey.count({ where: { name: 'bootstrap' } })).toBe(1);
    const me = await request(stack.auth.url).get('/api/auth/me').set(bearer(BOOTSTRAP_KEY)).expect(200);
    expect(me.body).toMatchObject({ user: { email: ADMIN.email, role: 'admin' }, via: 'api_key' });
  });
});

describe('admin: audit log', () => {
  it('records sign-ins and key events, pages newest first by cursor, and exports NDJSON', async () => {
    await request(stack.auth.url)
      .post('/api/auth/login')
      .send({ email: ADMIN.email, password: 'wrong-password' });
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const key = await request(stack.auth.url)
      .post('/api/auth/api-keys')
      .set(bearer(user.accessToken))
      .send({ name: 'audited' })
      .expect(201);
    await request(stack.auth.url)
      .delete(`/api/auth/api-keys/${key.body.apiKey.id as string}`)
      .set(bearer(user.accessToken))
      .expect(204);

    const page1 = await asAdmin(request(stack.auth.url).get('/api/auth/admin/audit?limit=2')).expect(200);
    expect(page1.body.items).toHaveLength(2);
    expect(page1.body.items[0]).toMatchObject({ action: 'api_key.revoked', actorId: user.user.id });
    const page2 = await asAdmin(
      request(stack.auth.url).get(`/api/auth/admin/audit?limit=2&before=${page1.body.nextCursor as string}`),
    ).expect(200);
    expect(BigInt(page2.body.items[0].id as string)).toBeLessThan(BigInt(page1.body.items[1].id as string));
    // `cursor` is the paging parameter on every list; `before` (above) is its old name, still accepted.
    const byCursor = await asAdmin(
      request(stack.auth.url).get(`/api/auth/admin/audit?limit=2&cursor=${page1.body.nextCursor as string}`),
    ).expect(200);
    expect(byCursor.body).toEqual(page2.body);
    expectProblem(
      await asAdmin(request(stack.auth.url).get('/api/auth/admin/audit?cursor=nope')),
      400,
      'validation_failed',
    );

    const failures = await asAdmin(
      request(stack.auth.url).get('/api/auth/admin/audit?action=user.sign_in'),
    ).expect(200);
    expect(failures.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ outcome: 'failure' }),
        expect.objectContaining({ outcome: 'success' }),
      ]),
    );

    const exported = await asAdmin(request(stack.auth.url).get('/api/auth/admin/audit/export'))
      .buffer(true)
      .expect(200);
    expect(exported.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = exported.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string });
    expect(lines.length).toBe(await stack.auth.ctx.db.prisma.auditEvent.count());
    expect(lines.map((l) => l.action)).toEqual(expect.arrayContaining(['api_key.created', 'user.activated']));
    // Attempted passwords are never recorded.
    expect(exported.text).not.toContain('wrong-password');
  });

  it('is for admins only', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    expectProblem(
      await request(stack.auth.url).get('/api/auth/admin/audit').set(bearer(user.accessToken)),
      403,
      'forbidden',
    );
    expectProblem(await request(stack.auth.url).get('/api/auth/admin/audit/export'), 401, 'unauthorized');
  });
});

describe('readiness and metrics', () => {
  it('reports Postgres and Redis, and exposes auth metrics', async () => {
    const ready = await request(stack.auth.url).get('/readyz').expect(200);
    expect(ready.body.checks).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'up' } });
    const metrics = await request(stack.auth.url).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/corral_auth_signing_keys_published 1/);
    expect(metrics.text).toMatch(/corral_auth_tokens_issued_total\{kind="access"\} [1-9]/);
    expect(metrics.text).toMatch(/corral_auth_sign_ins_total\{outcome="success"\} [1-9]/);
  });
});
