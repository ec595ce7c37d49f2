import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  bearer,
  createApiKey,
  createConversation,
  expectProblem,
  openSse,
  readUntil,
  signUp,
  useChatApiStack,
} from './helpers.js';

const stack = useChatApiStack({
  chat: {
    env: {
      RATE_LIMIT_PER_MINUTE: '60',
      READ_RATE_LIMIT_PER_MINUTE: '90',
      MAX_CONCURRENT_STREAMS: '1',
      MAX_MESSAGE_CHARS: '100',
      DAILY_TOKEN_BUDGET: '20',
    },
  },
});

describe('rate limit', () => {
  it('answers the 61st model request in a minute with 429, Retry-After and X-RateLimit headers', async () => {
    const user = await signUp();
    // Model requests: here messages to a conversation that does not exist (counted, then 404).
    const modelRequest = (token: string) =>
      request(stack.chat.url)
        .post(`/api/conversations/${randomUUID()}/messages`)
        .set(bearer(token))
        .send({ content: 'hi' });
    for (let i = 1; i <= 60; i += 1) {
      const res = await modelRequest(user.token);
      expect(res.status).toBe(404);
      expect(res.headers['x-ratelimit-limit']).toBe('60');
      expect(res.headers['x-ratelimit-remaining']).toBe(String(60 - i));
    }
    const limited = await modelRequest(user.token);
    expectProblem(limited, 429, 'rate_limited');
    expect(limited.body.detail).toMatch(/^More than 60 model requests in a minute; retry in \d+ s\.$/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(limited.headers['x-ratelimit-reset'])).toBeGreaterThan(0);

    // The same user through /v1 with an API key shares the budget (every /v1 call counts), and
    // the SDK sees a RateLimitError.
    const key = await createApiKey(user);
    const client = new OpenAI({ apiKey: key, baseURL: `${stack.chat.url}/v1`, maxRetries: 0 });
    await expect(client.models.list()).rejects.toBeInstanceOf(OpenAI.RateLimitError);

    // Reading is not a model request: the list still opens, counted against the read limit.
    const list = await request(stack.chat.url).get('/api/conversations').set(bearer(user.token)).expect(200);
    expect(list.headers['x-ratelimit-limit']).toBe('90');

    // Other users are not affected.
    const other = await signUp();
    await modelRequest(other.token).expect(404);
  });

  it('reads have a limit of their own (READ_RATE_LIMIT_PER_MINUTE), which leaves model requests alone', async () => {
    const user = await signUp();
    for (let i = 1; i <= 90; i += 1) {
      await request(stack.chat.url).get('/api/conversations').set(bearer(user.token)).expect(200);
    }
    const limited = await request(stack.chat.url).get('/api/conversations').set(bearer(user.token));
    expectProblem(limited, 429, 'rate_limited');
    expect(limited.body.detail).toMatch(/^More than 90 reads in a minute; retry in \d+ s\.$/);
    await request(stack.chat.url).post('/api/conversations').set(bearer(user.token)).send({}).expect(429);
    const send = await request(stack.chat.url)
      .post(`/api/conversations/${randomUUID()}/messages`)
      .set(bearer(user.token))
      .send({ content: 'hi' });
    expect(send.status).toBe(404);
  });
});

describe('stream and size limits', () => {
  it('refuses a second concurrent stream with 429 too_many_streams', async () => {
    stack.sim.setFailure({ mode: 'hang', paths: ['/api/chat'] });
    const user = await signUp();
    const first = await createConversation(stack.chat, user);
    const second = await createConversation(stack.chat, user);
    const stream = await openSse(`${stack.chat.url}/api/conversations/${first.id}/messages`, user.token, {
      content: 'one',
    });
    await readUntil(stream, 'start');
    const refused = await request(stack.chat.url)
      .post(`/api/conversations/${second.id}/messages`)
      .set(bearer(user.token))
      .send({ content: 'two' });
    expectProblem(refused, 429, 'too_many_streams');
    // Nothing was saved for the refused message.
    expect(await stack.chat.ctx.db.prisma.message.count({ where: { conversationId: second.id } })).toBe(0);
    await request(stack.chat.url)
      .post(`/api/conversations/${first.id}/stop`)
      .set(bearer(user.token))
      .expect(200);
    expect((await readUntil(stream, 'done')).event.data).toContain('"stopped"');
  });

  it('refuses a message longer than MAX_MESSAGE_CHARS with 400', async () => {
    const user = await signUp();
    const conversation = await createConversation(stack.chat, user);
    const res = await request(stack.chat.url)
      .post(`/api/conversations/${conversation.id}/messages`)
      .set(bearer(user.token))
      .send({ content: 'x'.repeat(101) });
    expectProblem(res, 400, 'validation_failed');
    expect(res.body.errors[0].path).toBe('body.content');
  });
});

describe('daily token budget', () => {
  it('answers 429 quota_exceeded once the day’s tokens are spent', async () => {
    const user = await signUp();
    const conversation = await createConversation(stack.chat, user);
    const events = await (
      await openSse(`${stack.chat.url}/api/conversations/${conversation.id}/messages`, user.token, {
        content: 'hi',
      })
    ).rest();
    expect(events.at(-1)?.event).toBe('done');
    const refused = await request(stack.chat.url)
      .post(`/api/conversations/${conversation.id}/messages`)
      .set(bearer(user.token))
      .send({ content: 'again' });
    expectProblem(refused, 429, 'quota_exceeded');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const key = await createApiKey(user);
    const client = new OpenAI({ apiKey: key, baseURL: `${stack.chat.url}/v1`, maxRetries: 0 });
    const viaSdk = client.chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'hi' }],
    });
    await expect(viaSdk).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(viaSdk).rejects.toMatchObject({ code: 'insufficient_quota' });
    // The legacy completions and the Responses API are held to the same budget.
    await expect(client.completions.create({ model: 'llama3.2', prompt: 'hi' })).rejects.toMatchObject({
      status: 429,
      code: 'insufficient_quota',
    });
    await expect(client.responses.create({ model: 'llama3.2', input: 'hi' })).rejects.toMatchObject({
      status: 429,
      code: 'insufficient_quota',
    });
    const usage = await request(stack.chat.url).get('/api/usage').set(bearer(user.token)).expect(200);
    expect(usage.body.dailyTokenBudget).toBe(20);
  });
});

describe('readiness, models and metrics', () => {
  it('is ready when Postgres, Redis and the gateway answer, and degraded (still serving) when the gateway does not', async () => {
    const ready = await request(stack.chat.url).get('/readyz').expect(200);
    expect(ready.body.status).toBe('ready');
    expect(Object.keys(ready.body.checks).sort()).toEqual(['gateway', 'postgres', 'redis']);
    stack.sim.setFailure({ mode: 'refuse', paths: ['/api/version'] });
    const degraded = await request(stack.chat.url).get('/readyz').expect(200);
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.checks.gateway).toMatchObject({ status: 'down', critical: false });
  });

  it('lists models for the UI and counts replies in Prometheus metrics', async () => {
    const user = await signUp();
    const conversation = await createConversation(stack.chat, user);
    await (
      await openSse(`${stack.chat.url}/api/conversations/${conversation.id}/messages`, user.token, {
        content: 'hi',
      })
    ).rest();
    const models = await request(stack.chat.url).get('/api/models').set(bearer(user.token)).expect(200);
    expect(models.body.defaultModel).toBe('llama3.2');
    expect(models.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'llama3.2:latest', kind: 'chat' }),
        expect.objectContaining({ name: 'nomic-embed-text:latest', kind: 'embedding' }),
      ]),
    );
    const metrics = await request(stack.chat.url).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/corral_chat_messages_total\{status="complete"\} [1-9]/);
    expect(metrics.text).toMatch(/corral_chat_tokens_total\{direction="out",model="llama3.2"\} [1-9]/);
    // Time to first token, open streams, stops (the too-many-streams test stopped one reply here).
    expect(metrics.text).toMatch(
      /corral_chat_time_to_first_token_seconds_count\{model="llama3.2",api="ui"\} [1-9]/,
    );
    expect(metrics.text).toMatch(/corral_chat_open_streams\{api="ui"\} 0/);
    expect(metrics.text).toMatch(/corral_chat_stop_requests_total\{reached="local"\} [1-9]/);
    expect(metrics.text).toMatch(/corral_chat_messages_total\{status="stopped"\} [1-9]/);
  });
});
