// Issue 21, finding 1: a key never creates a key wider than itself — its daily budget included. A
// key created by a key (auth's `keys` scope) spends at most its parent's daily budget, however wide
// its own (the default, or an admin's value) is.
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { describe, expect, inject, it } from 'vitest';
import { bearer, createApiKey, signUp, useChatApiStack } from './helpers.js';

const PARENT_BUDGET = 30;
const stack = useChatApiStack({
  admin: true,
  chat: {
    env: {
      // Every key's own default is far wider than the parent's budget.
      DAILY_TOKEN_BUDGET_PER_KEY: '1000000',
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_CONCURRENT_STREAMS: '0',
    },
  },
});

const auth = () => request(inject('authUrl'));
const ask = (key: string) =>
  request(stack.chat.url)
    .post('/v1/chat/completions')
    .set(bearer(key))
    .send({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });
const setKeyBudget = (keyId: string, dailyTokenBudget: number | null) =>
  request(stack.chat.url)
    .put(`/api/admin/api-keys/${keyId}/limits`)
    .set(bearer(stack.admin.token))
    .send({ dailyTokenBudget })
    .expect(200);

/** A key made with `token` (a session or a key with `keys`) at `path`; returns it and its id. */
async function makeKey(token: string, path: string, body: Record<string, unknown>) {
  const res = await auth()
    .post(path)
    .set(bearer(token))
    .send({ name: `k-${randomBytes(3).toString('hex')}`, ...body });
  expect(res.status, res.text).toBe(201);
  const created = res.body as { key: string; apiKey: { id: string; parentKeyId: string | null } };
  return { key: created.key, id: created.apiKey.id, parentKeyId: created.apiKey.parentKeyId };
}

describe('a child key inherits and narrows its parent’s daily budget', () => {
  it('spends at most the parent’s budget, whatever its own is', async () => {
    // Every reply would be 50 tokens: more than the parent's whole budget.
    stack.sim.setOptions({ responseTokens: 50 });
    try {
      const user = await signUp();
      const parent = await makeKey(stack.admin.token, `/api/auth/admin/users/${user.id}/api-keys`, {
        scopes: ['inference', 'keys'],
      });
      await setKeyBudget(parent.id, PARENT_BUDGET);
      const child = await makeKey(parent.key, '/api/auth/api-keys', {});
      expect(child.parentKeyId).toBe(parent.id);
      const grandchild = await makeKey(child.key, '/api/auth/api-keys', {});

      // A key made in a session is held only to its own (wide) default: the full reply.
      const free = await ask(await createApiKey(user));
      expect(free.status, free.text).toBe(200);
      expect(free.body.usage.completion_tokens).toBe(50);

      // The child: generation stops at the parent's budget, then the budget is spent.
      const first = await ask(child.key);
      expect(first.status, first.text).toBe(200);
      expect(first.body.usage.completion_tokens).toBeLessThanOrEqual(PARENT_BUDGET);
      const spent = await ask(child.key);
      expect(spent.status, spent.text).toBe(429);
      expect(spent.body.error).toMatchObject({ code: 'insufficient_quota' });
      expect(spent.body.error.message).toContain(`of ${PARENT_BUDGET} tokens`);

      // An admin's wider value (or none, 0) for the child does not lift the parent's ceiling.
      await setKeyBudget(child.id, 1_000_000);
      expect((await ask(child.key)).status).toBe(429);
      await setKeyBudget(child.id, 0);
      expect((await ask(child.key)).status).toBe(429);

      // Two levels down, the same ceiling; a narrower own budget narrows it further.
      await setKeyBudget(grandchild.id, 10);
      const narrowed = await ask(grandchild.key);
      expect(narrowed.status, narrowed.text).toBe(200);
      expect(narrowed.body.usage.completion_tokens).toBeLessThanOrEqual(10);
      const grandSpent = await ask(grandchild.key);
      expect(grandSpent.status).toBe(429);
      expect(grandSpent.body.error.message).toContain('of 10 tokens');
    } finally {
      stack.sim.setOptions({ responseTokens: 24 });
    }
  });
});
