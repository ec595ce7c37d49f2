// Issue 21, finding 1: an API key could do everything its owner could. Keys now carry scopes
// (inference by default); key management, admin routes and account changes need a session or a
// scope an admin grants; a key never creates a key wider than itself and dies with its parent.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '@corral/db-migrate';
import { TEST_DATABASE_URL, dropSchema } from '@corral/test-support';
import pg from 'pg';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  SERVICE_TOKEN,
  bearer,
  createActiveUser,
  eventually,
  expectProblem,
  type Session,
  uniqueSchema,
  useAuthStack,
} from './helpers.js';
import { MIGRATIONS_DIR } from '../src/migrations.js';

const stack = useAuthStack({ downstream: { introspectionCacheMs: 100 } });

type Created = {
  key: string;
  apiKey: {
    id: string;
    scopes: string[];
    models: string[] | null;
    expiresAt: string | null;
    parentKeyId: string | null;
  };
};

async function ownKey(token: string, body: Record<string, unknown>) {
  return request(stack.auth.url).post('/api/auth/api-keys').set(bearer(token)).send(body);
}

async function grantedKey(ownerId: string, body: Record<string, unknown>): Promise<Created> {
  const res = await request(stack.auth.url)
    .post(`/api/auth/admin/users/${ownerId}/api-keys`)
    .set(bearer(stack.admin.accessToken))
    .send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Created;
}

const introspect = (token: string) =>
  request(stack.auth.url).post('/api/auth/introspect').set(bearer(SERVICE_TOKEN)).send({ token });

const inOneHour = () => new Date(Date.now() + 3_600_000).toISOString();

describe('api key scopes: a default key is for inference only', () => {
  let user: Session;
  let key: Created;

  it('is created with the inference scope, and introspection says so', async () => {
    user = await createActiveUser(stack.auth.url, stack.admin);
    const res = await ownKey(user.accessToken, { name: 'limited', models: ['m1'], expiresAt: inOneHour() });
    expect(res.status).toBe(201);
    key = res.body as Created;
    expect(key.apiKey.scopes).toEqual(['inference']);
    expect((await introspect(key.key).expect(200)).body).toMatchObject({
      active: true,
      scopes: ['inference'],
    });
    const who = await request(stack.downstream.url).get('/whoami').set(bearer(key.key)).expect(200);
    expect(who.body.scopes).toEqual(['inference']);
  });

  it('cannot create, list or revoke keys, nor change the account', async () => {
    expectProblem(await ownKey(key.key, { name: 'wider' }), 403, 'forbidden');
    expectProblem(
      await request(stack.auth.url).get('/api/auth/api-keys').set(bearer(key.key)),
      403,
      'forbidden',
    );
    expectProblem(
      await request(stack.auth.url).delete(`/api/auth/api-keys/${key.apiKey.id}`).set(bearer(key.key)),
      403,
      'forbidden',
    );
    // The key still works for what it is for, and was not touched.
    await request(stack.auth.url).get('/api/auth/me').set(bearer(key.key)).expect(200);
    expect((await introspect(key.key)).body.active).toBe(true);
  });

  it('a user cannot grant their own key a wider scope in a session', async () => {
    expectProblem(await ownKey(user.accessToken, { name: 'k', scopes: ['keys'] }), 403, 'forbidden');
    expectProblem(await ownKey(user.accessToken, { name: 'k', scopes: ['admin'] }), 403, 'forbidden');
  });

  it("an admin's default key opens no admin route, here or downstream", async () => {
    const adminKey = (await ownKey(stack.admin.accessToken, { name: 'embed-only' })).body as Created;
    const victim = await createActiveUser(stack.auth.url, stack.admin);
    const admin = request(stack.auth.url);
    expectProblem(await admin.get('/api/auth/admin/users').set(bearer(adminKey.key)), 403, 'forbidden');
    expectProblem(
      await admin
        .put(`/api/auth/admin/users/${victim.user.id}/role`)
        .set(bearer(adminKey.key))
        .send({ role: 'admin' }),
      403,
      'forbidden',
    );
    expectProblem(
      await admin
        .post(`/api/auth/admin/users/${victim.user.id}/api-keys`)
        .set(bearer(adminKey.key))
        .send({ name: 'x' }),
      403,
      'forbidden',
    );
    expectProblem(
      await admin.post('/api/auth/admin/keys/rotate').set(bearer(adminKey.key)),
      403,
      'forbidden',
    );
    expectProblem(
      await request(stack.downstream.url).get('/admin-relay').set(bearer(adminKey.key)),
      403,
      'forbidden',
    );
    const after = await stack.auth.ctx.db.prisma.user.findUniqueOrThrow({ where: { id: victim.user.id } });
    expect(after.role).toBe('user');
    // A session still does all of it.
    await request(stack.downstream.url).get('/admin-relay').set(bearer(stack.admin.accessToken)).expect(200);
  });
});

describe('api key scopes: granted by an admin, never widened by a key', () => {
  it('a key with the keys scope creates only narrower keys, sees only those, and takes them down with it', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const expiresAt = inOneHour();
    const parent = await grantedKey(user.user.id, {
      name: 'ci',
      scopes: ['inference', 'keys'],
      models: ['m1', 'm2'],
      expiresAt,
    });
    expect(parent.apiKey.scopes).toEqual(['inference', 'keys']);

    // Wider in any way: refused.
    for (const wider of [
      { name: 'w', scopes: ['inference', 'keys', 'account'] },
      { name: 'w', models: ['m1', 'm3'] },
      { name: 'w', models: null },
      { name: 'w', expiresAt: null },
      { name: 'w', expiresAt: new Date(Date.now() + 7_200_000).toISOString() },
    ]) {
      expectProblem(await ownKey(parent.key, wider), 403, 'forbidden');
    }

    // Left out: inherited. Narrower: kept.
    const inherited = (await ownKey(parent.key, { name: 'child' })).body as Created;
    expect(inherited.apiKey).toMatchObject({
      scopes: ['inference', 'keys'],
      models: ['m1', 'm2'],
      expiresAt: new Date(expiresAt).toISOString(),
      parentKeyId: parent.apiKey.id,
    });
    const grandchild = (
      await ownKey(inherited.key, { name: 'grandchild', scopes: ['inference'], models: ['m1'] })
    ).body as Created;
    expect(grandchild.apiKey.models).toEqual(['m1']);
    // Introspection names the keys it descends from (chat-api caps its budget by theirs).
    expect((await introspect(grandchild.key).expect(200)).body.ancestorKeyIds).toEqual([
      inherited.apiKey.id,
      parent.apiKey.id,
    ]);
    expect((await introspect(parent.key).expect(200)).body.ancestorKeyIds).toEqual([]);

    // The key sees the keys it made (and theirs), not its owner's others.
    const sibling = (await ownKey(user.accessToken, { name: 'laptop' })).body as Created;
    const listed = await request(stack.auth.url)
      .get('/api/auth/api-keys')
      .set(bearer(parent.key))
      .expect(200);
    const ids = (listed.body.items as { id: string }[]).map((k) => k.id).sort();
    expect(ids).toEqual([inherited.apiKey.id, grandchild.apiKey.id].sort());
    await request(stack.auth.url)
      .delete(`/api/auth/api-keys/${sibling.apiKey.id}`)
      .set(bearer(parent.key))
      .expect(404);

    // Revoking the parent (in a session) revokes what it created.
    await request(stack.auth.url)
      .delete(`/api/auth/api-keys/${parent.apiKey.id}`)
      .set(bearer(user.accessToken))
      .expect(204);
    for (const key of [parent, inherited, grandchild]) {
      expect((await introspect(key.key)).body).toEqual({ active: false });
    }
    await eventually(async () => {
      await request(stack.downstream.url).get('/whoami').set(bearer(grandchild.key)).expect(401);
    });
    expect((await introspect(sibling.key)).body.active).toBe(true);
  });

  it("the admin scope goes only on an admin's key, and opens admin routes here and downstream", async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const refused = await request(stack.auth.url)
      .post(`/api/auth/admin/users/${user.user.id}/api-keys`)
      .set(bearer(stack.admin.accessToken))
      .send({ name: 'nope', scopes: ['admin'] });
    expectProblem(refused, 400, 'validation_failed');

    const ops = await grantedKey(stack.admin.user.id, { name: 'ops', scopes: ['inference', 'admin'] });
    await request(stack.auth.url).get('/api/auth/admin/users').set(bearer(ops.key)).expect(200);
    await request(stack.downstream.url).get('/admin-relay').set(bearer(ops.key)).expect(200);
    // It cannot issue a key wider than itself for anyone either.
    expectProblem(
      await request(stack.auth.url)
        .post(`/api/auth/admin/users/${user.user.id}/api-keys`)
        .set(bearer(ops.key))
        .send({ name: 'svc', scopes: ['keys'] }),
      403,
      'forbidden',
    );
    // Nor manage its own owner's keys (no keys scope).
    expectProblem(
      await request(stack.auth.url).get('/api/auth/api-keys').set(bearer(ops.key)),
      403,
      'forbidden',
    );
  });

  it('keys made before scopes existed migrate to inference only', async () => {
    // A schema at the first migration, with a key in it, then brought up to date.
    const schema = uniqueSchema();
    const url = `${TEST_DATABASE_URL}?schema=${schema}`;
    const initOnly = mkdtempSync(path.join(os.tmpdir(), 'auth-migrations-'));
    cpSync(path.join(MIGRATIONS_DIR, '20251123000000_init'), path.join(initOnly, '20251123000000_init'), {
      recursive: true,
    });
    cpSync(path.join(MIGRATIONS_DIR, 'migration_lock.toml'), path.join(initOnly, 'migration_lock.toml'));
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await migrate({ databaseUrl: url, migrationsDir: initOnly });
      await client.query(
        `INSERT INTO "${schema}".users (id, email, password_hash, role, status, updated_at)
         VALUES ('00000000-0000-4000-8000-000000000001', 'old@corral.test', 'x', 'admin', 'active', now())`,
      );
      await client.query(
        `INSERT INTO "${schema}".api_keys (id, user_id, name, prefix, key_hash)
         VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'old', 'sk-corral-abc', 'h')`,
      );
      await migrate({ databaseUrl: url, migrationsDir: MIGRATIONS_DIR });
      const { rows } = await client.query<{ scopes: string[] }>(`SELECT scopes FROM "${schema}".api_keys`);
      expect(rows).toEqual([{ scopes: ['inference'] }]);
    } finally {
      await client.end();
      rmSync(initOnly, { recursive: true, force: true });
      await dropSchema(schema);
    }
  });
});
