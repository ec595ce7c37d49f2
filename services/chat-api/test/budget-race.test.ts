import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { bearer, createApiKey, signUp, useChatApiStack } from './helpers.js';

const BUDGET = 30;
const stack = useChatApiStack({
  chat: {
    env: { DAILY_TOKEN_BUDGET: String(BUDGET), RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_STREAMS: '0' },
  },
});

describe('daily token budget under concurrency', () => {
  it('20 parallel requests with 30 tokens left overshoot by at most one reservation', async () => {
    // Every reply would be 50 tokens: more than the whole budget.
    stack.sim.setOptions({ responseTokens: 50 });
    try {
      const user = await signUp();
      const key = await createApiKey(user);
      const replies = await Promise.all(
        Array.from({ length: 20 }, () =>
          request(stack.chat.url)
            .post('/v1/chat/completions')
            .set(bearer(key))
            .send({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }),
        ),
      );
      const served = replies.filter((r) => r.status === 200);
      for (const refused of replies.filter((r) => r.status !== 200)) {
        expect(refused.status).toBe(429);
        expect(refused.body.error.code).toBe('insufficient_quota');
      }
      expect(served.length).toBeGreaterThan(0);
      const spent = served.reduce((sum, r) => sum + (r.body.usage.total_tokens as number), 0);
      const completion = served.reduce((sum, r) => sum + (r.body.usage.completion_tokens as number), 0);
      // Generation stopped when the reservation (what was left) was spent…
      expect(completion).toBeLessThanOrEqual(BUDGET);
      // …so the day's total passes the budget by at most one reservation (the prompt's tokens).
      expect(spent - BUDGET).toBeLessThanOrEqual(BUDGET);
      const usage = await request(stack.chat.url).get('/api/usage').set(bearer(user.token)).expect(200);
      expect(usage.body.tokensUsedToday).toBe(spent);
    } finally {
      stack.sim.setOptions({ responseTokens: 24 });
    }
  });

  it('holds across two replicas sharing Redis: 20 parallel requests split between them', async () => {
    stack.sim.setOptions({ responseTokens: 50 });
    try {
      const schema = stack.schema();
      const keyPrefix = `corral:test:${schema}:`;
      const env = {
        DAILY_TOKEN_BUDGET: String(BUDGET),
        RATE_LIMIT_PER_MINUTE: '0',
        MAX_CONCURRENT_STREAMS: '0',
      };
      const a = await stack.startChat({ schema, keyPrefix, env });
      const b = await stack.startChat({ schema, keyPrefix, env });
      const user = await signUp();
      const key = await createApiKey(user);
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          request((i % 2 === 0 ? a : b).url)
            .post('/v1/chat/completions')
            .set(bearer(key))
            .send({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }),
        ),
      );
      const served = replies.filter((r) => r.status === 200);
      for (const refused of replies.filter((r) => r.status !== 200)) expect(refused.status).toBe(429);
      expect(served.length).toBeGreaterThan(0);
      // The two replicas' reservations come out of one shared rest: together they generate no more
      // than it (each served request's prompt tokens come on top, however the rest was split).
      const completion = served.reduce((sum, r) => sum + (r.body.usage.completion_tokens as number), 0);
      expect(completion).toBeLessThanOrEqual(BUDGET);
    } finally {
      stack.sim.setOptions({ responseTokens: 24 });
    }
  });
});
