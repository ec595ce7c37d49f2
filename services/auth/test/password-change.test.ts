import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, bearer, createActiveUser, expectProblem, login, useAuthStack } from './helpers.js';

const stack = useAuthStack();

const change = (accessToken: string, body: Record<string, unknown>) =>
  request(stack.auth.url).post('/api/auth/password').set(bearer(accessToken)).send(body);

const refresh = (refreshToken: string) =>
  request(stack.auth.url).post('/api/auth/refresh').send({ refreshToken });

describe('change your own password: happy path', () => {
  it('the bootstrap admin is flagged to change it; changing clears the flag', async () => {
    expect(stack.admin.user).toMatchObject({ email: ADMIN.email, mustChangePassword: true });
    const laptop = await login(stack.auth.url, ADMIN.email, ADMIN.password);
    const res = await change(stack.admin.accessToken, {
      currentPassword: ADMIN.password,
      newPassword: 'a-new-admin-password-1',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.user).toMatchObject({ mustChangePassword: false });
    // The caller keeps going with the new session (cookie and body, as at login) …
    expect(([] as string[]).concat(res.headers['set-cookie'] ?? []).join()).toContain('corral_refresh=');
    expect((await refresh(res.body.refreshToken as string)).status).toBe(200);
    // … every other session is over, including the caller's old refresh token.
    expectProblem(await refresh(laptop.refreshToken), 401, 'invalid_token');
    expectProblem(await refresh(stack.admin.refreshToken), 401, 'invalid_token');
    // … and their access tokens stop working now, not when they expire; the new session's works.
    const me = (accessToken: string) => request(stack.auth.url).get('/api/auth/me').set(bearer(accessToken));
    expectProblem(await me(laptop.accessToken), 401, 'invalid_token');
    expect((await me(res.body.accessToken as string)).status).toBe(200);
    // Only the new password signs in now.
    const old = await request(stack.auth.url)
      .post('/api/auth/login')
      .send({ email: ADMIN.email, password: ADMIN.password });
    expectProblem(old, 401, 'invalid_credentials');
    const fresh = await login(stack.auth.url, ADMIN.email, 'a-new-admin-password-1');
    expect(fresh.user).toMatchObject({ mustChangePassword: false });

    const audit = await request(stack.auth.url)
      .get('/api/auth/admin/audit?action=user.password_changed')
      .set(bearer(fresh.accessToken))
      .expect(200);
    expect(audit.body.items[0]).toMatchObject({ action: 'user.password_changed', outcome: 'success' });
  });

  it('a registered user is not asked to change theirs', async () => {
    const admin = await login(stack.auth.url, ADMIN.email, 'a-new-admin-password-1');
    const user = await createActiveUser(stack.auth.url, admin);
    expect(user.user).toMatchObject({ mustChangePassword: false });
  });
});

describe('change your own password: errors', () => {
  it('a wrong current password is refused (audited as a failure) and changes nothing', async () => {
    const admin = await login(stack.auth.url, ADMIN.email, 'a-new-admin-password-1');
    const user = await createActiveUser(stack.auth.url, admin);
    const res = await change(user.accessToken, {
      currentPassword: 'not-my-password',
      newPassword: 'another-password-2',
    });
    expectProblem(res, 400, 'validation_failed');
    expect(res.body.detail).toContain('currentPassword');
    expect((await refresh(user.refreshToken)).status).toBe(200);
    const audit = await request(stack.auth.url)
      .get(`/api/auth/admin/audit?action=user.password_changed&actorId=${user.user.id}`)
      .set(bearer(admin.accessToken))
      .expect(200);
    expect(audit.body.items[0]).toMatchObject({ outcome: 'failure' });
  });

  it('a short new password, the same password, or a missing field is a 400', async () => {
    const admin = await login(stack.auth.url, ADMIN.email, 'a-new-admin-password-1');
    const user = await createActiveUser(stack.auth.url, admin);
    const current = 'user-password-123';
    expectProblem(
      await change(user.accessToken, { currentPassword: current, newPassword: 'short' }),
      400,
      'validation_failed',
    );
    expectProblem(
      await change(user.accessToken, { currentPassword: current, newPassword: current }),
      400,
      'validation_failed',
    );
    expectProblem(
      await change(user.accessToken, { newPassword: 'long-enough-password' }),
      400,
      'validation_failed',
    );
  });
});

describe('change your own password: security', () => {
  it('needs a signed-in user: no token is a 401, an API key is a 403', async () => {
    expectProblem(
      await request(stack.auth.url)
        .post('/api/auth/password')
        .send({ currentPassword: 'x', newPassword: 'y'.repeat(12) }),
      401,
      'unauthorized',
    );
    const admin = await login(stack.auth.url, ADMIN.email, 'a-new-admin-password-1');
    const key = await request(stack.auth.url)
      .post('/api/auth/api-keys')
      .set(bearer(admin.accessToken))
      .send({ name: 'script' })
      .expect(201);
    expectProblem(
      await change(key.body.key as string, {
        currentPassword: 'a-new-admin-password-1',
        newPassword: 'stolen-key-password',
      }),
      403,
      'forbidden',
    );
  });
});
