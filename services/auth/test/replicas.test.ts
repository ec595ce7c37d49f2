import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema } from '@corral/test-support';
import { bearer, loginAdmin, startAuth, startDownstream, uniqueSchema, type TestAuth } from './helpers.js';

let a: TestAuth;
let b: TestAuth;

beforeAll(async () => {
  const schema = uniqueSchema();
  // Started together, as two pods would be: the advisory lock lets only one make the first key and the admin.
  [a, b] = await Promise.all([startAuth({ schema }), startAuth({ schema })]);
});

afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
  await dropSchema(a.schema);
});

const kidsOf = async (url: string) =>
  ((await request(url).get('/.well-known/jwks.json').expect(200)).body.keys as Array<{ kid: string }>)
    .map((key) => key.kid)
    .sort();

describe('two auth replicas on one database', () => {
  it('made exactly one signing key and one admin between them, and serve the same JWKS', async () => {
    expect(await a.ctx.db.prisma.signingKey.count()).toBe(1);
    expect(await a.ctx.db.prisma.user.count({ where: { email: 'admin@corral.test' } })).toBe(1);
    const [fromA, fromB] = await Promise.all([kidsOf(a.url), kidsOf(b.url)]);
    expect(fromA).toHaveLength(1);
    expect(fromB).toEqual(fromA);
  });

  it("accept each other's refresh tokens and access tokens", async () => {
    const onA = await loginAdmin(a.url);
    const onB = await request(b.url)
      .post('/api/auth/refresh')
      .send({ refreshToken: onA.refreshToken })
      .expect(200);
    await request(a.url)
      .get('/api/auth/me')
      .set(bearer(onB.body.accessToken as string))
      .expect(200);
    const backOnA = await request(a.url)
      .post('/api/auth/refresh')
      .send({ refreshToken: onB.body.refreshToken as string })
      .expect(200);
    await request(b.url)
      .get('/api/auth/me')
      .set(bearer(backOnA.body.accessToken as string))
      .expect(200);
    // Reuse detection works across replicas too.
    await request(b.url).post('/api/auth/refresh').send({ refreshToken: onA.refreshToken }).expect(401);
    await request(a.url)
      .post('/api/auth/refresh')
      .send({ refreshToken: backOnA.body.refreshToken as string })
      .expect(401);
  });

  it('a rotation on one replica shows in both JWKS, and tokens from either verify downstream', async () => {
    const admin = await loginAdmin(a.url);
    const rotated = await request(a.url)
      .post('/api/auth/admin/keys/rotate')
      .set(bearer(admin.accessToken))
      .expect(201);
    const [fromA, fromB] = await Promise.all([kidsOf(a.url), kidsOf(b.url)]);
    expect(fromA).toContain(rotated.body.kid);
    expect(fromB).toEqual(fromA);

    const downstream = await startDownstream(b);
    try {
      const signedByA = await loginAdmin(a.url);
      const signedByB = await loginAdmin(b.url);
      await request(downstream.url).get('/whoami').set(bearer(signedByA.accessToken)).expect(200);
      await request(downstream.url).get('/whoami').set(bearer(signedByB.accessToken)).expect(200);
      await request(b.url).get('/api/auth/me').set(bearer(signedByA.accessToken)).expect(200);
    } finally {
      await downstream.close();
    }
  });
});
