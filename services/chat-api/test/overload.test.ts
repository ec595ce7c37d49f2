import type pg from 'pg';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { toAppError } from '@corral/service-kit';
import { bearer, createApiKey, createConversation, expectProblem, useChatApiStack } from './helpers.js';

// One connection and a short wait: the smallest pool that can be exhausted on purpose.
const stack = useChatApiStack({
  chat: { env: { DATABASE_POOL_MAX: '1', DATABASE_POOL_TIMEOUT_MS: '150', RATE_LIMIT_PER_MINUTE: '0' } },
  users: ['user'],
});

/** Takes the pool's only connection until released. */
async function holdPool(): Promise<pg.PoolClient> {
  return stack.chat.ctx.db.pool.connect();
}

describe('database pool exhausted', () => {
  it('answers 503 service_unavailable with Retry-After on every route, quickly, then recovers', async () => {
    const conversation = await createConversation(stack.chat, stack.user);
    const key = await createApiKey(stack.user);
    const held = await holdPool();
    try {
      const started = Date.now();
      const answers = await Promise.all([
        request(stack.chat.url).get('/api/conversations').set(bearer(stack.user.token)),
        request(stack.chat.url)
          .get(`/api/conversations/${conversation.id}/messages`)
          .set(bearer(stack.user.token)),
        request(stack.chat.url).post('/api/conversations').set(bearer(stack.user.token)).send({}),
        request(stack.chat.url)
          .post(`/api/conversations/${conversation.id}/messages`)
          .set(bearer(stack.user.token))
          .send({ content: 'hello' }),
        request(stack.chat.url).get('/api/usage').set(bearer(stack.user.token)),
      ]);
      for (const res of answers) {
        expectProblem(res, 503, 'service_unavailable');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
      // Bounded by DATABASE_POOL_TIMEOUT_MS (150 ms), not by Prisma's or pg's defaults (seconds).
      expect(Date.now() - started).toBeLessThan(2000);

      // /v1 keeps OpenAI's error shape: a 5xx the SDKs retry after Retry-After.
      const v1 = await request(stack.chat.url)
        .post('/v1/chat/completions')
        .set(bearer(key))
        .send({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });
      expect(v1.status, v1.text).toBe(503);
      expect(Number(v1.headers['retry-after'])).toBeGreaterThan(0);
      expect((v1.body as { error: { code: string } }).error.code).toBe('service_unavailable');
    } finally {
      held.release();
    }

    const after = await request(stack.chat.url).get('/api/conversations').set(bearer(stack.user.token));
    expect(after.status, after.text).toBe(200);
  });

  it("maps Prisma's transaction-start timeout (startReply's $transaction) to 503", async () => {
    const held = await holdPool();
    let error: unknown;
    try {
      await stack.chat.ctx.db.prisma.$transaction(async (tx) => tx.conversation.count());
    } catch (caught) {
      error = caught;
    } finally {
      held.release();
    }
    expect(error).toBeDefined();
    const mapped = toAppError(error);
    expect(mapped.code).toBe('service_unavailable');
    expect(mapped.status).toBe(503);
    expect(mapped.headers['Retry-After']).toBe('1');
  });

  it('under a burst larger than the pool answers 200 or 503, never 500, and recovers', async () => {
    const conversation = await createConversation(stack.chat, stack.user);
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0
          ? request(stack.chat.url).get('/api/conversations?q=hello').set(bearer(stack.user.token))
          : request(stack.chat.url)
              .patch(`/api/conversations/${conversation.id}`)
              .set(bearer(stack.user.token))
              .send({ title: `t${i}` }),
      ),
    );
    const statuses = burst.map((res) => res.status);
    expect(
      statuses.every((status) => status === 200 || status === 503),
      statuses.join(','),
    ).toBe(true);
    for (const res of burst.filter((r) => r.status === 503)) {
      expect(res.headers['retry-after']).toBe('1');
    }

    for (let i = 0; i < 5; i++) {
      const res = await request(stack.chat.url).get('/api/conversations').set(bearer(stack.user.token));
      expect(res.status, res.text).toBe(200);
    }
  });
});
