import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@corral/test-support';
import { expectErrorShape } from '../support/fuzz.js';
import { type User, call, createConversation, signUp } from '../support/http.js';
import { type DedicatedPostgres, createPostgres } from '../support/postgres.js';
import { type Stack, startStack } from '../support/stack.js';

let postgres: DedicatedPostgres;
let stack: Stack;
let user: User;

beforeAll(async () => {
  postgres = await createPostgres();
  await postgres.start();
  stack = await startStack({
    databaseUrl: postgres.url,
    without: ['gateway'],
    env: { all: { LOG_LEVEL: 'error' } },
  });
  user = await signUp(stack.auth.url, 'pg');
  await createConversation(stack.chat!.url, user.token, 'before the restart');
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await postgres?.destroy();
});

const readiness = async (url: string) =>
  (await call(url, '/readyz')) as { status: number; json: { checks?: Record<string, { status: string }> } };

describe('PostgreSQL restarted', () => {
  it(
    'services go not-ready, fail requests cleanly, and recover without a restart',
    { timeout: 90_000 },
    async () => {
      const chat = stack.chat!.url;
      const auth = stack.auth.url;
      await postgres.stop();

      for (const url of [auth, chat]) {
        const ready = await waitFor(`${url} to report postgres down`, async () => {
          const reply = await readiness(url);
          return reply.status === 503 && reply.json.checks?.postgres?.status === 'down' ? reply : undefined;
        });
        expect(ready.json.checks?.postgres?.status).toBe('down');
      }

      const failures = [
        await call(chat, '/api/conversations', { token: user.token }),
        await call(chat, '/api/conversations', { token: user.token, body: { title: 'during' } }),
        await call(auth, '/api/auth/login', { body: { email: user.email, password: user.password } }),
        await call(auth, '/api/auth/me', { token: user.token }),
      ];
      for (const reply of failures) {
        console.log(`postgres down: ${reply.status} ${String((reply.json as { code?: string })?.code)}`);
        expect(reply.status).toBeGreaterThanOrEqual(500);
        expectErrorShape(reply, 'problem', 'request while PostgreSQL is down');
      }
      expect(stack.auth.isAlive() && stack.chat!.isAlive()).toBe(true);

      await postgres.start();
      for (const url of [auth, chat]) {
        await waitFor(`${url} to be ready again`, async () => (await readiness(url)).status === 200, {
          timeoutMs: 30_000,
        });
      }
      const list = await waitFor('chat-api to serve history again', async () => {
        const reply = await call(chat, '/api/conversations', { token: user.token });
        return reply.status === 200 ? reply : undefined;
      });
      expect((list.json as { items: Array<{ title: string }> }).items.map((c) => c.title)).toContain(
        'before the restart',
      );
      expect(
        (await call(auth, '/api/auth/login', { body: { email: user.email, password: user.password } }))
          .status,
      ).toBe(200);
    },
  );

  it('a request while PostgreSQL is down is 503 service_unavailable with Retry-After, not 500', async () => {
    await postgres.stop();
    try {
      await waitFor(
        'chat-api to report postgres down',
        async () => (await readiness(stack.chat!.url)).status === 503,
      );
      for (const [name, reply] of [
        [
          'chat-api GET /api/conversations',
          await call(stack.chat!.url, '/api/conversations', { token: user.token }),
        ],
        [
          'auth POST /api/auth/login',
          await call(stack.auth.url, '/api/auth/login', {
            body: { email: user.email, password: user.password },
          }),
        ],
      ] as const) {
        expect.soft(reply.status, `${name}: ${reply.text.slice(0, 200)}`).toBe(503);
      }
    } finally {
      await postgres.start();
    }
  });
});
