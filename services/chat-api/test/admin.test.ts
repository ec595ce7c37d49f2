import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  bearer,
  createApiKeyWithId,
  createConversation,
  expectProblem,
  openSse,
  readUntil,
  signUp,
  type TestUser,
  useChatApiStack,
} from './helpers.js';

const stack = useChatApiStack({
  chat: {
    env: { RATE_LIMIT_PER_MINUTE: '100', MAX_CONCURRENT_STREAMS: '3', DAILY_TOKEN_BUDGET_PER_KEY: '20' },
  },
  admin: true,
});

const setLimits = (userId: string, body: Record<string, unknown>, token = stack.admin.token) =>
  request(stack.chat.url).put(`/api/admin/users/${userId}/limits`).set(bearer(token)).send(body);

async function say(user: TestUser, conversationId: string, content: string) {
  return (
    await openSse(`${stack.chat.url}/api/conversations/${conversationId}/messages`, user.token, { content })
  ).rest();
}

describe('admin limits: happy path', () => {
  it('sets a user’s request rate, which applies at once and to that user only', async () => {
    const [limited, other] = await Promise.all([signUp(), signUp()]);
    const saved = await setLimits(limited.id, { requestsPerMinute: 3 }).expect(200);
    expect(saved.body).toMatchObject({
      userId: limited.id,
      requestsPerMinute: 3,
      dailyTokenBudget: null,
      maxConcurrentStreams: null,
      allowedModels: null,
      updatedBy: stack.admin.id,
      effective: { requestsPerMinute: 3, dailyTokenBudget: 0, maxConcurrentStreams: 3 },
    });
    // A model request (the limit counts those): a message to a conversation that does not exist.
    const modelRequest = (user: TestUser) =>
      request(stack.chat.url)
        .post(`/api/conversations/${randomUUID()}/messages`)
        .set(bearer(user.token))
        .send({ content: 'hi' });
    for (let i = 0; i < 3; i += 1) {
      const res = await modelRequest(limited).expect(404);
      expect(res.headers['x-ratelimit-limit']).toBe('3');
    }
    const refused = await modelRequest(limited);
    expectProblem(refused, 429, 'rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const fine = await modelRequest(other).expect(404);
    expect(fine.headers['x-ratelimit-limit']).toBe('100');
    // Reading is counted apart: the limited user still opens their chats.
    await request(stack.chat.url).get('/api/conversations').set(bearer(limited.token)).expect(200);
  });

  it('keeps fields left out of a PUT and resets those sent as null (the web app sends two fields)', async () => {
    const user = await signUp();
    await setLimits(user.id, { maxConcurrentStreams: 2, allowedModels: ['qwen2.5'] }).expect(200);
    const partial = await setLimits(user.id, { dailyTokenBudget: 5000, requestsPerMinute: null }).expect(200);
    expect(partial.body).toMatchObject({
      requestsPerMinute: null,
      dailyTokenBudget: 5000,
      maxConcurrentStreams: 2,
      allowedModels: ['qwen2.5'],
    });
    const read = await request(stack.chat.url)
      .get(`/api/admin/users/${user.id}/limits`)
      .set(bearer(stack.admin.token))
      .expect(200);
    expect(read.body).toMatchObject({
      dailyTokenBudget: 5000,
      requestsPerMinute: null,
      maxConcurrentStreams: 2,
    });
    expect(read.body.defaults).toMatchObject({ requestsPerMinute: 100, maxConcurrentStreams: 3 });
  });

  it('limits a user’s concurrent streams, models and daily tokens', async () => {
    const user = await signUp();
    await setLimits(user.id, {
      maxConcurrentStreams: 1,
      allowedModels: ['qwen2.5'],
      dailyTokenBudget: 20,
    }).expect(200);
    const models = await request(stack.chat.url).get('/api/models').set(bearer(user.token)).expect(200);
    expect(models.body.items.map((m: { name: string }) => m.name)).toEqual(['qwen2.5:latest']);

    const llama = await createConversation(stack.chat, user, { model: 'qwen2.5' });
    const refusedModel = await request(stack.chat.url)
      .post(`/api/conversations/${llama.id}/messages`)
      .set(bearer(user.token))
      .send({ content: 'hi', model: 'llama3.2' });
    expectProblem(refusedModel, 404, 'model_not_found');

    stack.sim.setFailure({ mode: 'hang', paths: ['/api/chat'] });
    const first = await createConversation(stack.chat, user, { model: 'qwen2.5' });
    const second = await createConversation(stack.chat, user, { model: 'qwen2.5' });
    const stream = await openSse(`${stack.chat.url}/api/conversations/${first.id}/messages`, user.token, {
      content: 'one',
    });
    await readUntil(stream, 'start');
    expectProblem(
      await request(stack.chat.url)
        .post(`/api/conversations/${second.id}/messages`)
        .set(bearer(user.token))
        .send({ content: 'two' }),
      429,
      'too_many_streams',
    );
    await request(stack.chat.url)
      .post(`/api/conversations/${first.id}/stop`)
      .set(bearer(user.token))
      .expect(200);
    await readUntil(stream, 'done');
    stack.sim.setFailure({ mode: 'none' });

    expect((await say(user, second.id, 'spend the budget')).at(-1)?.event).toBe('done');
    const spent = await request(stack.chat.url)
      .post(`/api/conversations/${second.id}/messages`)
      .set(bearer(user.token))
      .send({ content: 'more' });
    expectProblem(spent, 429, 'quota_exceeded');
    const usage = await request(stack.chat.url).get('/api/usage').set(bearer(user.token)).expect(200);
    expect(usage.body.dailyTokenBudget).toBe(20);
    expect(usage.body.tokensUsedToday).toBeGreaterThanOrEqual(20);
  });

  it('gives each API key its own daily budget (DAILY_TOKEN_BUDGET_PER_KEY), which an admin can override', async () => {
    const user = await signUp();
    const [first, second] = [await createApiKeyWithId(user), await createApiKeyWithId(user)];
    const client = (key: string) =>
      new OpenAI({ apiKey: key, baseURL: `${stack.chat.url}/v1`, maxRetries: 0 });
    const ask = (key: string) =>
      client(key).chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });
    const answer = await ask(first.key);
    expect(answer.usage!.total_tokens).toBeGreaterThanOrEqual(20);
    await expect(ask(first.key)).rejects.toMatchObject({ status: 429, code: 'insufficient_quota' });
    // The other key (and the user's own budget) are untouched.
    await expect(ask(second.key)).resolves.toMatchObject({ object: 'chat.completion' });

    await request(stack.chat.url)
      .put(`/api/admin/api-keys/${first.id}/limits`)
      .set(bearer(stack.admin.token))
      .send({ dailyTokenBudget: 0 })
      .expect(200);
    await expect(ask(first.key)).resolves.toMatchObject({ object: 'chat.completion' });
    const read = await request(stack.chat.url)
      .get(`/api/admin/api-keys/${first.id}/limits`)
      .set(bearer(stack.admin.token))
      .expect(200);
    expect(read.body).toMatchObject({
      apiKeyId: first.id,
      dailyTokenBudget: 0,
      defaults: { dailyTokenBudget: 20 },
    });
  });

  it('reports everyone’s tokens by day, user and model, page by page', async () => {
    const [ann, ben] = await Promise.all([signUp(), signUp()]);
    for (const [user, model] of [
      [ann, 'llama3.2'],
      [ann, 'qwen2.5'],
      [ben, 'llama3.2'],
    ] as const) {
      const conversation = await createConversation(stack.chat, user, { model });
      expect((await say(user, conversation.id, 'count me')).at(-1)?.event).toBe('done');
    }
    const rows: Array<{ userId: string; model: string; day: string; completionTokens: number }> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await request(stack.chat.url)
        .get('/api/admin/usage')
        .query({ days: 1, limit: 2, ...(cursor ? { cursor } : {}) })
        .set(bearer(stack.admin.token))
        .expect(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      rows.push(...res.body.items);
      cursor = res.body.nextCursor as string | null;
      pages += 1;
    } while (cursor && pages < 100);
    const mine = rows.filter((r) => r.userId === ann.id || r.userId === ben.id);
    expect(mine.map((r) => [r.userId, r.model]).sort()).toEqual(
      [
        [ann.id, 'llama3.2'],
        [ann.id, 'qwen2.5'],
        [ben.id, 'llama3.2'],
      ].sort(),
    );
    expect(new Set(rows.map((r) => `${r.day}/${r.userId}/${r.model}`)).size).toBe(rows.length);
    const filtered = await request(stack.chat.url)
      .get('/api/admin/usage')
      .query({ userId: ann.id, model: 'qwen2.5' })
      .set(bearer(stack.admin.token))
      .expect(200);
    expect(filtered.body.items).toHaveLength(1);
    expect(filtered.body.items[0].completionTokens).toBeGreaterThan(0);

    const own = await request(stack.chat.url).get('/api/usage').set(bearer(ann.token)).expect(200);
    expect(own.body.items.map((r: { model: string }) => r.model).sort()).toEqual(['llama3.2', 'qwen2.5']);

    const summary = await request(stack.chat.url)
      .get('/api/metrics/chat')
      .set(bearer(stack.admin.token))
      .expect(200);
    expect(summary.body.activeUsers).toBeGreaterThanOrEqual(2);
    expect(summary.body.totals.completionTokens).toBeGreaterThan(0);
  });
});

describe('admin limits: error paths', () => {
  it('refuses negative numbers, unknown fields and foreign cursors', async () => {
    const user = await signUp();
    expectProblem(await setLimits(user.id, { requestsPerMinute: -1 }), 400, 'validation_failed');
    expectProblem(await setLimits(user.id, { tokensPerDay: 5 }), 400, 'validation_failed');
    expectProblem(
      await request(stack.chat.url).get('/api/admin/usage?cursor=bogus').set(bearer(stack.admin.token)),
      400,
      'validation_failed',
    );
  });
});

describe('admin limits: security', () => {
  it('is for admins only', async () => {
    const user = await signUp();
    expectProblem(await setLimits(user.id, { requestsPerMinute: 1000 }, user.token), 403, 'forbidden');
    expectProblem(
      await request(stack.chat.url).get(`/api/admin/users/${user.id}/limits`).set(bearer(user.token)),
      403,
      'forbidden',
    );
    expectProblem(
      await request(stack.chat.url).get('/api/admin/usage').set(bearer(user.token)),
      403,
      'forbidden',
    );
    expectProblem(
      await request(stack.chat.url).get('/api/metrics/chat').set(bearer(user.token)),
      403,
      'forbidden',
    );
    expectProblem(await request(stack.chat.url).get('/api/admin/usage'), 401, 'unauthorized');
  });
});
