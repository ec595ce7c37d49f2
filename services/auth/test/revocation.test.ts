// Issue 21, finding 4: disable, demote and logout did not reach other services until the access
// token expired (15 min). auth now stamps them and services refuse within seconds, their 60 s
// principal cache included: over Redis pub/sub, or by polling auth's feed without Redis.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SERVICE_TOKEN,
  bearer,
  createActiveUser,
  type Downstream,
  eventually,
  expectProblem,
  login,
  startDownstream,
  useAuthStack,
} from './helpers.js';

/** The bound: a revoked or demoted principal is refused within 5 s. */
const WITHIN_MS = 5000;
const stack = useAuthStack();
let viaRedis: Downstream;
let viaPolling: Downstream;

beforeAll(async () => {
  // As chat-api runs: a verified token's principal is reused for a minute, an API key's for a minute.
  const cached = { accessTokenCacheMs: 60_000, introspectionCacheMs: 60_000 };
  // Polling slower than the bound, so only pub/sub can make it in time.
  viaRedis = await startDownstream(stack.auth, { ...cached, revocations: 'redis', pollMs: 60_000 });
  viaPolling = await startDownstream(stack.auth, { ...cached, revocations: 'poll', pollMs: 1000 });
});
afterAll(async () => {
  await viaRedis?.close();
  await viaPolling?.close();
});

const whoami = (service: Downstream, token: string) => request(service.url).get('/whoami').set(bearer(token));
const refusedWithin = (service: Downstream, token: string, path = '/whoami') =>
  eventually(async () => {
    expectProblem(await request(service.url).get(path).set(bearer(token)), 401, 'invalid_token');
  }, WITHIN_MS);

describe('revocation reaches other services within seconds', () => {
  it('disable: the access token and the API key are refused, though both were cached', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const key = await request(stack.auth.url)
      .post('/api/auth/api-keys')
      .set(bearer(user.accessToken))
      .send({ name: 'k' })
      .expect(201);
    for (const service of [viaRedis, viaPolling]) {
      await whoami(service, user.accessToken).expect(200);
      await whoami(service, key.body.key as string).expect(200);
    }
    await request(stack.auth.url)
      .post(`/api/auth/admin/users/${user.user.id}/disable`)
      .set(bearer(stack.admin.accessToken))
      .expect(200);
    for (const service of [viaRedis, viaPolling]) {
      await refusedWithin(service, user.accessToken);
      await refusedWithin(service, key.body.key as string);
    }
  });

  it('logout: that session is refused, another session of the same user is not', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const other = await login(stack.auth.url, user.user.email, 'user-password-123');
    for (const service of [viaRedis, viaPolling]) await whoami(service, user.accessToken).expect(200);
    await request(stack.auth.url)
      .post('/api/auth/logout')
      .send({ refreshToken: user.refreshToken })
      .expect(204);
    expectProblem(
      await request(stack.auth.url).get('/api/auth/me').set(bearer(user.accessToken)),
      401,
      'invalid_token',
    );
    for (const service of [viaRedis, viaPolling]) {
      await refusedWithin(service, user.accessToken);
      await whoami(service, other.accessToken).expect(200);
    }
  });

  it("demotion: the old admin token stops opening admin routes; the next one is a user's", async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const promote = (role: string) =>
      request(stack.auth.url)
        .put(`/api/auth/admin/users/${user.user.id}/role`)
        .set(bearer(stack.admin.accessToken))
        .send({ role })
        .expect(200);
    await promote('admin');
    const asAdmin = await login(stack.auth.url, user.user.email, 'user-password-123');
    for (const service of [viaRedis, viaPolling]) {
      await request(service.url).get('/admin-only').set(bearer(asAdmin.accessToken)).expect(200);
    }
    await promote('user');
    for (const service of [viaRedis, viaPolling])
      await refusedWithin(service, asAdmin.accessToken, '/admin-only');

    // Signing in again at once (within the same second as the stamp) gives a token that works.
    const again = await login(stack.auth.url, user.user.email, 'user-password-123');
    for (const service of [viaRedis, viaPolling]) {
      await whoami(service, again.accessToken).expect(200);
      expectProblem(
        await request(service.url).get('/admin-only').set(bearer(again.accessToken)),
        403,
        'forbidden',
      );
    }
  });

  it('a password reset ends every token of the user', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    await whoami(viaRedis, user.accessToken).expect(200);
    await request(stack.auth.url)
      .post(`/api/auth/admin/users/${user.user.id}/password`)
      .set(bearer(stack.admin.accessToken))
      .send({ password: 'a-brand-new-passphrase' })
      .expect(204);
    await refusedWithin(viaRedis, user.accessToken);
    await refusedWithin(viaPolling, user.accessToken);
  });

  it('the feed needs the internal service token', async () => {
    expectProblem(await request(stack.auth.url).get('/api/auth/revocations'), 401, 'unauthorized');
    const feed = await request(stack.auth.url)
      .get('/api/auth/revocations')
      .set(bearer(SERVICE_TOKEN))
      .expect(200);
    expect(feed.body.items.length).toBeGreaterThan(0);
    expect(feed.body.items[0]).toEqual({
      id: expect.any(String),
      userId: expect.any(String),
      sessionId: expect.toBeOneOf([null, expect.any(String)]),
      notBefore: expect.any(Number),
    });
  });
});
