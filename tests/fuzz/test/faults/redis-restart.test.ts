import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@corral/test-support';
import { type User, call, createConversation, login, signUp } from '../support/http.js';
import { createRedis } from '../support/postgres.js';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let redis: Awaited<ReturnType<typeof createRedis>>;
let user: User;

beforeAll(async () => {
  redis = await createRedis();
  await redis.start();
  stack = await startStack({
    redisUrl: redis.url,
    without: ['gateway'],
    env: {
      all: { LOG_LEVEL: 'error' },
      chat: { RATE_LIMIT_PER_MINUTE: '1000', READ_RATE_LIMIT_PER_MINUTE: '1000' },
    },
  });
  user = await signUp(stack.auth.url, 'redis');
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await redis?.stop();
});

const readiness = async (url: string) =>
  (await call(url, '/readyz')).json as { status: string; checks: Record<string, { status: string }> };

describe('Redis stopped and started', () => {
  it('auth and chat-api keep serving with local limits, and pick Redis up again', async () => {
    const chat = stack.chat!.url;
    expect((await call(chat, '/api/conversations', { token: user.token })).headers['x-ratelimit-limit']).toBe(
      '1000',
    );

    await redis.stop();
    await waitFor(
      'chat-api to notice Redis is gone',
      async () => (await readiness(chat)).checks.redis?.status === 'down',
    );
    await waitFor(
      'auth to notice Redis is gone',
      async () => (await readiness(stack.auth.url)).checks.redis?.status === 'down',
    );

    // Still serving: sign-in (throttling counts locally), chat history and writes.
    const again = await login(stack.auth.url, user.email, user.password);
    const list = await call(chat, '/api/conversations', { token: again.token });
    expect(list.status).toBe(200);
    expect(list.headers['x-ratelimit-limit']).toBe('1000');
    await createConversation(chat, again.token, 'while redis is down');
    const wrong = await call(stack.auth.url, '/api/auth/login', {
      body: { email: user.email, password: 'wrong-password-1' },
    });
    expect(wrong.status).toBe(401);

    await redis.start();
    await waitFor(
      'chat-api to be ready with Redis again',
      async () => (await readiness(chat)).checks.redis?.status === 'up',
      {
        timeoutMs: 30_000,
      },
    );
    await waitFor(
      'auth to be ready with Redis again',
      async () => (await readiness(stack.auth.url)).status === 'ready',
      {
        timeoutMs: 30_000,
      },
    );
    expect((await call(chat, '/api/conversations', { token: again.token })).status).toBe(200);
    expect(stack.auth.isAlive() && stack.chat!.isAlive()).toBe(true);
  });
});
