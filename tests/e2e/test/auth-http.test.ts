// Sign-in flows over raw HTTP against the web origin (what curl or a browser's fetch sends),
// through web's local-mode proxy to auth, on the stack `corral start` runs.
import { describe, expect, it } from 'vitest';
import { adminSession, call, login, refreshCookieFrom, uniqueEmail, userIdOf } from './support/accounts.js';
import { corral } from './support/stack.js';

describe('sign-in with the bootstrap admin', () => {
  it('logs in with the password corral start saved, and sets the refresh cookie for /api/auth only', async () => {
    const { admin } = corral();
    const res = await call('/api/auth/login', { body: { email: admin.email, password: admin.password } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', user: { email: admin.email, role: 'admin' } });
    expect(res.body.accessToken).toEqual(expect.any(String));
    const cookie = res.headers.getSetCookie().find((line) => line.startsWith('corral_refresh='));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Path=\/api\/auth/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
  });

  it('GET /api/auth/me answers with the user for the access token, and 401 without one', async () => {
    const session = await adminSession();
    const me = await call('/api/auth/me', { token: session.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user: { id: session.user.id, email: corral().admin.email } });
    const anonymous = await call('/api/auth/me');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('refresh rotation with the cookie', () => {
  it('swaps the cookie for a new pair; once that is used, the old cookie is refused and takes the new ones down with it', async () => {
    const session = await adminSession();
    const refresh = (cookie: string) => call('/api/auth/refresh', { method: 'POST', cookie });
    const rotated = await refresh(session.refreshCookie);
    expect(rotated.status).toBe(200);
    const newCookie = refreshCookieFrom(rotated.headers);
    expect(newCookie).toBeDefined();
    expect(newCookie).not.toBe(session.refreshCookie);
    const me = await call('/api/auth/me', { token: rotated.body.accessToken as string });
    expect(me.status).toBe(200);

    // Two tabs refreshing at once: the same old cookie moments later gets the same new pair back.
    const raced = await refresh(session.refreshCookie);
    expect(raced.status).toBe(200);
    expect(refreshCookieFrom(raced.headers)).toBe(newCookie);

    // Once the new cookie has been used, the old one is a stolen, spent token: refused, and the
    // whole session family is revoked.
    const next = await refresh(newCookie!);
    expect(next.status).toBe(200);
    const newest = refreshCookieFrom(next.headers);
    const reused = await refresh(session.refreshCookie);
    expect(reused.status).toBe(401);
    const afterTheft = await refresh(newest!);
    expect(afterTheft.status).toBe(401);
  });

  it('logout ends the session: 204, the cookie is cleared, and it no longer refreshes', async () => {
    const session = await adminSession();
    const out = await call('/api/auth/logout', { method: 'POST', cookie: session.refreshCookie });
    expect(out.status).toBe(204);
    const cleared = out.headers.getSetCookie().find((line) => line.startsWith('corral_refresh='));
    expect(cleared).toMatch(/^corral_refresh=;|Expires=Thu, 01 Jan 1970|Max-Age=0/i);
    const again = await call('/api/auth/refresh', { method: 'POST', cookie: session.refreshCookie });
    expect(again.status).toBe(401);
  });
});

describe('wrong credentials', () => {
  it('a wrong password is a generic 401: the same answer as for an account that does not exist', async () => {
    const wrong = await call('/api/auth/login', {
      body: { email: corral().admin.email, password: 'not-the-password' },
    });
    const unknown = await call('/api/auth/login', {
      body: { email: uniqueEmail('nobody'), password: 'whatever-1234' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const { requestId: _a, ...wrongBody } = wrong.body;
    const { requestId: _b, ...unknownBody } = unknown.body;
    expect(wrongBody).toEqual(unknownBody);
    expect(wrongBody.code).toBe('invalid_credentials');
    expect(JSON.stringify(wrongBody)).not.toMatch(/password is wrong|no such user|not found/i);
    expect(refreshCookieFrom(wrong.headers)).toBeUndefined();
  });
});

describe('registration with corral start’s defaults (open, new accounts wait for approval)', () => {
  it('registers a pending account that cannot sign in until an admin activates it', async () => {
    const email = uniqueEmail('register');
    const password = 'register-password-1';
    const registered = await call('/api/auth/register', { body: { email, password, name: 'New Person' } });
    expect(registered.status).toBe(202);
    expect(registered.body).toMatchObject({ status: 'pending' });

    const early = await call('/api/auth/login', { body: { email, password } });
    expect(early.status).toBe(403);
    expect(early.body.code).toBe('account_pending');

    // The same answer for an address that has an account: registration does not tell who does.
    const duplicate = await call('/api/auth/register', { body: { email: email.toUpperCase(), password } });
    expect(duplicate.status).toBe(202);
    expect(duplicate.body).toEqual(registered.body);

    const admin = await adminSession();
    const userId = await userIdOf(admin, email);
    const activated = await call(`/api/auth/admin/users/${userId}/activate`, {
      method: 'POST',
      token: admin.accessToken,
    });
    expect(activated.status).toBe(200);
    const session = await login(email, password);
    expect(session.user).toMatchObject({ email, status: 'active' });
  });

  it('only admins may activate accounts', async () => {
    const email = uniqueEmail('self-approval');
    await call('/api/auth/register', { body: { email, password: 'self-approval-1' } });
    const userId = await userIdOf(await adminSession(), email);
    const anonymous = await call(`/api/auth/admin/users/${userId}/activate`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
  });
});
