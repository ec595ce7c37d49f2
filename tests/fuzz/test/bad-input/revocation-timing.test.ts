// Issue 21, findings 4 and 8: disable, demotion and sign-out reach chat-api, /v1 and the gateway
// within 5 s (a bounded poll, no fixed sleep); a cross-site logout form changes nothing.
import { describe, expect, it } from 'vitest';
import { type Reply, type User, call, login, loginAdmin, send, signUp } from '../support/http.js';
import { fuzzStack } from '../support/shared-stack.js';

/** The bound for a revoked or demoted principal. */
const WITHIN_MS = 5000;

/** Polls until every check answers 401, or fails after `WITHIN_MS` with the ones still let through. */
async function refusedEverywhereWithin(checks: Record<string, () => Promise<Reply>>): Promise<void> {
  const deadline = Date.now() + WITHIN_MS;
  let open = Object.keys(checks);
  for (;;) {
    const statuses = await Promise.all(
      open.map(async (name) => [name, (await checks[name]!()).status] as const),
    );
    open = statuses.filter(([, status]) => status !== 401).map(([name]) => name);
    if (open.length === 0) return;
    if (Date.now() > deadline) expect.fail(`still accepted after ${WITHIN_MS} ms: ${open.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function promotedAdmin(admin: User, what: string): Promise<{ user: User; key: string }> {
  const { authUrl } = fuzzStack();
  const user = await signUp(authUrl, what);
  const role = await call(authUrl, `/api/auth/admin/users/${user.id}/role`, {
    method: 'PUT',
    token: admin.token,
    body: { role: 'admin' },
  });
  expect(role.status).toBe(200);
  const session = await login(authUrl, user.email, user.password);
  const key = await call(authUrl, '/api/auth/api-keys', {
    token: session.token,
    body: { name: 'revocation' },
  });
  expect(key.status).toBe(201);
  return { user: session, key: (key.json as { key: string }).key };
}

function everywhere(token: string, key: string): Record<string, () => Promise<Reply>> {
  const { chatUrl, gatewayUrl } = fuzzStack();
  return {
    'chat-api UI route (access token)': () => call(chatUrl, '/api/conversations', { token }),
    'chat-api admin relay (access token)': () => call(chatUrl, '/api/admin/usage', { token }),
    '/v1 (access token)': () => call(chatUrl, '/v1/models', { token }),
    '/v1 (API key)': () => call(chatUrl, '/v1/models', { token: key }),
    'gateway /admin (access token)': () => call(gatewayUrl, '/admin/backends', { token }),
  };
}

describe('revocation timing', () => {
  it('disable → refused within 5 s on chat-api, /v1 and the gateway', { timeout: 60_000 }, async () => {
    const admin = await loginAdmin(fuzzStack().authUrl);
    const { user, key } = await promotedAdmin(admin, 'revoke-disable');
    const checks = everywhere(user.token, key);
    for (const [name, check] of Object.entries(checks)) expect((await check()).status, name).toBe(200);
    const disabled = await call(fuzzStack().authUrl, `/api/auth/admin/users/${user.id}/disable`, {
      method: 'POST',
      token: admin.token,
    });
    expect(disabled.status).toBe(200);
    await refusedEverywhereWithin(checks);
  });

  it('demotion → the old admin token opens no admin route within 5 s', { timeout: 60_000 }, async () => {
    const { authUrl, chatUrl, gatewayUrl } = fuzzStack();
    const admin = await loginAdmin(authUrl);
    const { user } = await promotedAdmin(admin, 'revoke-demote');
    expect((await call(gatewayUrl, '/admin/backends', { token: user.token })).status).toBe(200);
    const demoted = await call(authUrl, `/api/auth/admin/users/${user.id}/role`, {
      method: 'PUT',
      token: admin.token,
      body: { role: 'user' },
    });
    expect(demoted.status).toBe(200);
    await refusedEverywhereWithin({
      'chat-api admin relay': () => call(chatUrl, '/api/admin/usage', { token: user.token }),
      'chat-api limits (what the demoted admin set on themself)': () =>
        call(chatUrl, `/api/admin/users/${user.id}/limits`, {
          token: user.token,
          method: 'PUT',
          body: { dailyTokenBudget: null },
        }),
      'gateway /admin': () => call(gatewayUrl, '/admin/backends', { token: user.token }),
    });
  });

  it(
    'logout → that access token is refused within 5 s on chat-api and /v1',
    { timeout: 60_000 },
    async () => {
      const { authUrl, chatUrl } = fuzzStack();
      const user = await signUp(authUrl, 'revoke-logout');
      expect((await call(chatUrl, '/api/conversations', { token: user.token })).status).toBe(200);
      const out = await call(authUrl, '/api/auth/logout', { body: { refreshToken: user.refreshToken } });
      expect(out.status).toBe(204);
      await refusedEverywhereWithin({
        'chat-api UI route': () => call(chatUrl, '/api/conversations', { token: user.token }),
        '/v1': () => call(chatUrl, '/v1/models', { token: user.token }),
      });
    },
  );
});

describe('cross-site logout form', () => {
  it('a form POSTed from another site neither clears the cookie nor ends the session', async () => {
    const { authUrl } = fuzzStack();
    const user = await signUp(authUrl, 'csrf-victim');
    const cookie = `corral_refresh=${user.refreshToken}`;
    for (const body of ['', 'a=1']) {
      const res = await send(authUrl, {
        method: 'POST',
        path: '/api/auth/logout',
        headers: {
          cookie,
          origin: 'https://attacker.example',
          'sec-fetch-site': 'cross-site',
          'sec-fetch-mode': 'navigate',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const refreshed = await send(authUrl, {
      method: 'POST',
      path: '/api/auth/refresh',
      headers: { cookie, 'sec-fetch-site': 'same-origin' },
    });
    expect(refreshed.status).toBe(200);
  });
});
