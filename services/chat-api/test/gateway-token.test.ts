import OpenAI from 'openai';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  answersOf,
  bearer,
  createApiKey,
  createConversation,
  expectProblem,
  openSse,
  type TestChat,
  useChatApiStack,
} from './helpers.js';

const TOKEN = 'gateway-service-token-for-tests-0123456789';

// The real inference-gateway, a process of its own, requiring TOKEN in front of the sim; each test
// starts the chat-api it needs.
const stack = useChatApiStack({ gatewayToken: TOKEN, chat: false, users: ['user'] });

const chatWithToken = (token: string | undefined): Promise<TestChat> =>
  stack.startChat({
    env: { GATEWAY_URL: stack.gateway.url, ...(token ? { GATEWAY_SERVICE_TOKEN: token } : {}) },
  });

describe('gateway service token: happy path', () => {
  it('presents GATEWAY_SERVICE_TOKEN on every gateway call: probes, models, replies', async () => {
    const chat = await chatWithToken(TOKEN);
    const before = await answersOf(stack.gateway.url);
    await request(chat.url).get('/readyz').expect(200);
    await request(chat.url).get('/api/models').set(bearer(stack.user.token)).expect(200);
    const conversation = await createConversation(chat, stack.user);
    const events = await (
      await openSse(`${chat.url}/api/conversations/${conversation.id}/messages`, stack.user.token, {
        content: 'hello through the gate',
      })
    ).rest();
    expect(events.at(-1)?.event).toBe('done');
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ status: 'complete' });
    // The gateway counts a stream once its last byte is out, a moment after the client has it.
    await expect
      .poll(async () => (await answersOf(stack.gateway.url)).passed)
      .toBeGreaterThanOrEqual(before.passed + 3);
    expect((await answersOf(stack.gateway.url)).refused).toBe(before.refused);
  });
});

/** The gateway's count of returning conversations sent back to their previous backend. */
async function affinityHits(gatewayUrl: string): Promise<number> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  return Number(/^corral_gateway_affinity_total\{result="hit"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('conversation key', () => {
  it('sends each turn with its conversation id, so the gateway keeps the conversation on one backend', async () => {
    const chat = await chatWithToken(TOKEN);
    const conversation = await createConversation(chat, stack.user);
    const before = await affinityHits(stack.gateway.url);
    for (const content of ['first turn', 'second turn']) {
      const events = await (
        await openSse(`${chat.url}/api/conversations/${conversation.id}/messages`, stack.user.token, {
          content,
        })
      ).rest();
      expect(events.at(-1)?.event).toBe('done');
    }
    // The second turn carried the same key as the first: the gateway counts it as an affinity hit.
    expect(await affinityHits(stack.gateway.url)).toBeGreaterThanOrEqual(before + 1);
  });
});

describe('gateway service token: error paths', () => {
  it('surfaces a wrong token as a clear 502 naming GATEWAY_SERVICE_TOKEN, not as the caller’s fault', async () => {
    const chat = await chatWithToken('not-the-gateway-token-0123456789abcdef');

    const models = await request(chat.url).get('/api/models').set(bearer(stack.user.token));
    expectProblem(models, 502, 'bad_gateway');
    expect(models.body.detail).toContain('GATEWAY_SERVICE_TOKEN');

    const ready = await request(chat.url).get('/readyz').expect(200);
    expect(ready.body.status).toBe('degraded');
    expect(ready.body.checks.gateway).toMatchObject({ status: 'down' });
    expect(ready.body.checks.gateway.error).toContain('GATEWAY_SERVICE_TOKEN');

    const conversation = await createConversation(chat, stack.user);
    const events = await (
      await openSse(`${chat.url}/api/conversations/${conversation.id}/messages`, stack.user.token, {
        content: 'will this pass?',
      })
    ).rest();
    expect(events.at(-1)?.event).toBe('error');
    const failure = JSON.parse(events.at(-1)!.data) as { status: string; code: string; message: string };
    expect(failure).toMatchObject({ status: 'error', code: 'bad_gateway' });
    expect(failure.message).toContain('GATEWAY_SERVICE_TOKEN');

    const client = new OpenAI({
      apiKey: await createApiKey(stack.user),
      baseURL: `${chat.url}/v1`,
      maxRetries: 0,
    });
    const completion = client.chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'hi' }],
    });
    await expect(completion).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(completion).rejects.toMatchObject({ status: 502 });
  });

  it('reports a missing token the same way', async () => {
    const chat = await chatWithToken(undefined);
    const models = await request(chat.url).get('/api/models').set(bearer(stack.user.token));
    expectProblem(models, 502, 'bad_gateway');
    expect(models.body.detail).toContain('GATEWAY_SERVICE_TOKEN');
  });
});
