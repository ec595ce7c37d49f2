import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@corral/test-support';
import { expectErrorShape } from '../support/fuzz.js';
import { type User, call, createConversation, signUp } from '../support/http.js';
import { type RunningProcess, spawnService } from '../support/processes.js';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let web: RunningProcess;
let user: User;

beforeAll(async () => {
  stack = await startStack({ without: ['gateway'], env: { all: { LOG_LEVEL: 'error' } } });
  web = await spawnService('web', {
    AUTH_URL: stack.auth.url,
    CHAT_API_URL: stack.chat!.url,
    PROXY_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'error',
  });
  user = await signUp(stack.auth.url, 'auth-down');
  // chat-api has verified a token once: its JWKS cache is warm.
  await createConversation(stack.chat!.url, user.token);
}, 120_000);

afterAll(async () => {
  await web?.stop();
  await stack?.close();
});

describe('the auth service down', () => {
  it('existing JWTs keep working on chat-api; new sign-ins fail cleanly', async () => {
    await stack.auth.kill();
    expect(stack.auth.isAlive()).toBe(false);

    // Verified against the cached JWKS: no call to auth needed.
    for (let i = 0; i < 5; i += 1) {
      const list = await call(stack.chat!.url, '/api/conversations', { token: user.token });
      expect(list.status).toBe(200);
    }
    expect(
      (await call(stack.chat!.url, '/api/conversations', { token: user.token, body: { title: 'x' } })).status,
    ).toBe(201);
    // Through the web origin too.
    expect((await call(web.url, '/api/conversations', { token: user.token })).status).toBe(200);

    // A new sign-in through the web/ingress path: 502/503 problem+json, not a hang.
    const started = Date.now();
    const login = await call(web.url, '/api/auth/login', {
      body: { email: user.email, password: user.password },
    });
    console.log(`auth down: sign-in answered ${login.status} after ${Date.now() - started} ms`);
    expect([502, 503, 504]).toContain(login.status);
    expectErrorShape(login, 'problem', 'login via web with auth down');

    // An API key cannot be checked without auth: 503 from chat-api, not 401 and not 500.
    const key = await call(stack.chat!.url, '/v1/models', {
      token: 'sk-corral-unknown-key-while-auth-is-down-000000',
    });
    expect(key.status).toBe(503);

    // Everything still runs.
    expect((await call(web.url, '/healthz')).status).toBe(200);
    expect((await call(stack.chat!.url, '/healthz')).status).toBe(200);
    await waitFor('chat-api to stay up', () => stack.chat!.isAlive());
  });
});
