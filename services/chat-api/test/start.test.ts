// A new chat and its first message in one request (POST /api/conversations/start): the reply
// streams as any other, and a refused first message leaves no empty "Untitled" chat behind.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { bearer, expectProblem, openSse, signUp, useChatApiStack } from './helpers.js';

const stack = useChatApiStack({
  chat: { env: { RATE_LIMIT_PER_MINUTE: '1', MAX_MESSAGE_CHARS: '50' } },
});

const conversationsOf = async (token: string) =>
  (await request(stack.chat.url).get('/api/conversations').set(bearer(token)).expect(200)).body
    .items as Array<{ id: string; title: string; model: string; systemPrompt: string | null }>;

describe('a new chat with its first message', () => {
  it('creates the conversation and streams the reply in one request', async () => {
    const user = await signUp();
    const events = await (
      await openSse(`${stack.chat.url}/api/conversations/start`, user.token, {
        content: 'Hello there',
        model: 'qwen2.5',
        systemPrompt: 'Be brief.',
      })
    ).rest();
    expect(events.map((e) => e.event).at(0)).toBe('start');
    expect(events.at(-1)?.event).toBe('done');
    const start = JSON.parse(events[0]!.data) as { conversationId: string };
    const [conversation, ...others] = await conversationsOf(user.token);
    expect(others).toEqual([]);
    expect(conversation).toMatchObject({
      id: start.conversationId,
      title: 'Hello there',
      model: 'qwen2.5',
      systemPrompt: 'Be brief.',
    });
  });
});

describe('a refused first message', () => {
  it('over the rate limit or too long: 429 / 400, and no conversation was created', async () => {
    const user = await signUp();
    await (await openSse(`${stack.chat.url}/api/conversations/start`, user.token, { content: 'one' })).rest();
    const refused = await request(stack.chat.url)
      .post('/api/conversations/start')
      .set(bearer(user.token))
      .send({ content: 'two' });
    expectProblem(refused, 429, 'rate_limited');
    expect(await conversationsOf(user.token)).toHaveLength(1);

    const other = await signUp();
    const tooLong = await request(stack.chat.url)
      .post('/api/conversations/start')
      .set(bearer(other.token))
      .send({ content: 'x'.repeat(51) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.detail).toContain('51 characters; at most 50');
    expect(await conversationsOf(other.token)).toHaveLength(0);
  });

  it('an unknown field is refused by name, not ignored', async () => {
    const user = await signUp();
    const res = await request(stack.chat.url)
      .post('/api/conversations/start')
      .set(bearer(user.token))
      .send({ content: 'hi', temperature: 2 });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('temperature');
    expect(await conversationsOf(user.token)).toHaveLength(0);
  });
});
