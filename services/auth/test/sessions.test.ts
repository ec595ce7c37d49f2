import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  ADMIN,
  bearer,
  createActiveUser,
  expectProblem,
  login,
  startAuth,
  type Session,
  useAuthStack,
  userIdOf,
} from './helpers.js';

const REGISTRATION_ANSWER = {
  status: 'pending',
  message: 'If this address can register, it is pending: sign in once it is active.',
};

const stack = useAuthStack();

const refreshCookie = (res: request.Response): string | undefined =>
  ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('corral_refresh='));

describe('sessions: happy path', () => {
  it('register → pending → admin activates → login → /me → refresh rotates → reuse revokes the family → logout', async () => {
    const email = 'Dana.Pending@Corral.test';
    const password = 'dana-password-123';

    const registered = await request(stack.auth.url)
      .post('/api/auth/register')
      .send({ email, password })
      .expect(202);
    expect(registered.body).toEqual(REGISTRATION_ANSWER);
    const userId = await userIdOf(stack.auth.url, stack.admin, 'dana.pending@corral.test');
    const stored = await stack.auth.ctx.db.prisma.user.findUniqueOrThrow({ where: { id: userId } });
    expect(stored).toMatchObject({ status: 'pending', role: 'user' });

    expectProblem(
      await request(stack.auth.url).post('/api/auth/login').send({ email, password }),
      403,
      'account_pending',
    );

    await request(stack.auth.url)
      .post(`/api/auth/admin/users/${userId}/activate`)
      .set(bearer(stack.admin.accessToken))
      .expect(200);

    const loginRes = await request(stack.auth.url)
      .post('/api/auth/login')
      .send({ email: 'DANA.pending@corral.test', password })
      .expect(200);
    const first = loginRes.body as Session & { tokenType: string; expiresIn: number };
    expect(first).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    const cookie = refreshCookie(loginRes);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/api\/auth/);
    expect(cookie).toContain(`corral_refresh=${first.refreshToken}`);

    const me = await request(stack.auth.url).get('/api/auth/me').set(bearer(first.accessToken)).expect(200);
    expect(me.body.user).toMatchObject({ email: 'dana.pending@corral.test', status: 'active' });

    // Rotation: the refresh token is exchanged for a new pair.
    const rotated = await request(stack.auth.url)
      .post('/api/auth/refresh')
      .send({ refreshToken: first.refreshToken })
      .expect(200);
    const second = rotated.body as Session;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    await request(stack.auth.url).get('/api/auth/me').set(bearer(second.accessToken)).expect(200);

    // The browser path: the cookie alone refreshes too.
    const viaCookie = await request(stack.auth.url)
      .post('/api/auth/refresh')
      .set('Cookie', `corral_refresh=${second.refreshToken}`)
      .expect(200);
    const third = viaCookie.body as Session;

    // Replaying a used token revokes the whole family, including the newest token.
    expectProblem(
      await request(stack.auth.url).post('/api/auth/refresh').send({ refreshToken: first.refreshToken }),
      401,
      'invalid_token',
    );
    expectProblem(
      await request(stack.auth.url).post('/api/auth/refresh').send({ refreshToken: third.refreshToken }),
      401,
      'invalid_token',
    );
    const reuse = await stack.auth.ctx.db.prisma.auditEvent.findFirst({
      where: { action: 'session.refresh_reuse' },
    });
    expect(reuse?.actorId).toBe(userId);

    // A new sign-in starts a new family; logout ends it.
    const fresh = await login(stack.auth.url, email, password);
    const logout = await request(stack.auth.url)
      .post('/api/auth/logout')
      .set('Cookie', `corral_refresh=${fresh.refreshToken}`)
      .expect(204);
    expect(refreshCookie(logout)).toMatch(/corral_refresh=;/);
    expectProblem(
      await request(stack.auth.url).post('/api/auth/refresh').send({ refreshToken: fresh.refreshToken }),
      401,
      'invalid_token',
    );
  });

  it('publishes OpenID discovery pointing at the JWKS (its configured port, uncached, without PUBLIC_URL)', async () => {
    const res = await request(stack.auth.url)
      .get('/.well-known/openid-configuration')
      .set('Host', 'evil.example')
      .expect(200);
    expect(res.body).toMatchObject({
      issuer: 'corral-auth',
      jwks_uri: `http://localhost:${stack.auth.config.PORT}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['RS256'],
    });
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('sessions: error paths', () => {
  it('answers bad input with 400 problem+json naming the field', async () => {
    const res = await request(stack.auth.url)
      .post('/api/auth/register')
      .send({ email: 'not-an-email', password: 'x' });
    expectProblem(res, 400, 'validation_failed');
    const body = JSON.parse(res.text) as { errors: Array<{ path: string }> };
    expect(body.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['body.email', 'body.password']));
    expectProblem(
      await request(stack.auth.url)
        .post('/api/auth/login')
        .set('Content-Type', 'application/json')
        .send('{"email":'),
      400,
      'malformed_json',
    );
  });

  it('keeps one account per email in any letter case, answering as for a new address (no 409)', async () => {
    const first = await request(stack.auth.url)
      .post('/api/auth/register')
      .send({ email: 'twin@corral.test', password: 'twin-password-1' })
      .expect(202);
    const second = await request(stack.auth.url)
      .post('/api/auth/register')
      .send({ email: 'TWIN@Corral.Test', password: 'twin-password-2' })
      .expect(202);
    expect(second.body).toEqual(first.body);
    expect(await stack.auth.ctx.db.prisma.user.count({ where: { email: 'twin@corral.test' } })).toBe(1);
    const audited = await stack.auth.ctx.db.prisma.auditEvent.findFirst({
      where: { action: 'user.registered', outcome: 'failure' },
    });
    expect(audited?.details).toEqual({ reason: 'email_taken' });
  });

  it('gives the same answer for an unknown account and a wrong password', async () => {
    const unknown = await request(stack.auth.url)
      .post('/api/auth/login')
      .send({ email: 'nobody@corral.test', password: 'whatever-123' });
    const wrong = await request(stack.auth.url)
      .post('/api/auth/login')
      .send({ email: ADMIN.email, password: 'wrong-password-1' });
    expectProblem(unknown, 401, 'invalid_credentials');
    expectProblem(wrong, 401, 'invalid_credentials');
    expect(JSON.parse(unknown.text).detail).toBe(JSON.parse(wrong.text).detail);
  });

  it('refuses sign-in to a disabled account and ends its sessions', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    await request(stack.auth.url)
      .post(`/api/auth/admin/users/${user.user.id}/disable`)
      .set(bearer(stack.admin.accessToken))
      .expect(200);
    expectProblem(
      await request(stack.auth.url)
        .post('/api/auth/login')
        .send({ email: user.user.email, password: 'user-password-123' }),
      403,
      'account_disabled',
    );
    expectProblem(
      await request(stack.auth.url).post('/api/auth/refresh').send({ refreshToken: user.refreshToken }),
      401,
      'invalid_token',
    );
    expectProblem(
      await request(stack.auth.url).get('/api/auth/me').set(bearer(user.accessToken)),
      401,
      'invalid_token',
    );
  });

  it('needs a refresh token to refresh', async () => {
    expectProblem(await request(stack.auth.url).post('/api/auth/refresh'), 401, 'unauthorized');
    expectProblem(
      await request(stack.auth.url).post('/api/auth/refresh').send({ refreshToken: 'made-up' }),
      401,
      'invalid_token',
    );
  });
});

describe('sessions: registration controls', () => {
  it('closes registration when ENABLE_REGISTRATION=false', async () => {
    const closed = await startAuth({ schema: stack.auth.schema, env: { ENABLE_REGISTRATION: 'false' } });
    try {
      expectProblem(
        await request(closed.url)
          .post('/api/auth/register')
          .send({ email: 'late@corral.test', password: 'late-password-1' }),
        403,
        'registration_closed',
      );
    } finally {
      await closed.close();
    }
  });

  it('requires the registration code when configured, and DEFAULT_USER_STATUS=active skips approval', async () => {
    const gated = await startAuth({
      schema: stack.auth.schema,
      env: {
        REQUIRE_REGISTRATION_CODE: 'true',
        REGISTRATION_CODE: 'open-sesame',
        DEFAULT_USER_STATUS: 'active',
      },
    });
    try {
      const body = { email: 'coded@corral.test', password: 'coded-password-1' };
      expectProblem(
        await request(gated.url).post('/api/auth/register').send(body),
        403,
        'registration_closed',
      );
      expectProblem(
        await request(gated.url)
          .post('/api/auth/register')
          .send({ ...body, registrationCode: 'wrong-code' }),
        403,
        'registration_closed',
      );
      await request(gated.url)
        .post('/api/auth/register')
        .send({ ...body, registrationCode: 'open-sesame' })
        .expect(202);
      await login(gated.url, body.email, body.password);
    } finally {
      await gated.close();
    }
  });
});

describe('sessions: security', () => {
  it('answers /me without a token, with garbage, or with a refresh token as 401', async () => {
    expectProblem(await request(stack.auth.url).get('/api/auth/me'), 401, 'unauthorized');
    expectProblem(
      await request(stack.auth.url).get('/api/auth/me').set(bearer('garbage')),
      401,
      'invalid_token',
    );
    expectProblem(
      await request(stack.auth.url).get('/api/auth/me').set(bearer(stack.admin.refreshToken)),
      401,
      'invalid_token',
    );
  });

  it('keeps users out of admin routes (403) and strangers out (401)', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    expectProblem(
      await request(stack.auth.url).get('/api/auth/admin/users').set(bearer(user.accessToken)),
      403,
      'forbidden',
    );
    expectProblem(await request(stack.auth.url).get('/api/auth/admin/users'), 401, 'unauthorized');
    expectProblem(
      await request(stack.auth.url).post('/api/auth/admin/keys/rotate').set(bearer(user.accessToken)),
      403,
      'forbidden',
    );
  });
});
