import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { ExportFile } from '@corral/contracts';
import {
  bearer,
  createApiKey,
  createConversation,
  expectProblem,
  openSse,
  useChatApiStack,
} from './helpers.js';

// The default limit: nothing in the environment sets MAX_MESSAGE_CHARS.
const stack = useChatApiStack({ users: ['user'] });
const LIMIT = 400_000;

describe('one message-size limit on every path (MAX_MESSAGE_CHARS, default 400,000)', () => {
  it('accepts 400,000 characters and refuses 400,001 on the UI, /v1 and import, naming both numbers', async () => {
    const conversation = await createConversation(stack.chat, stack.user);
    const send = (content: string) =>
      request(stack.chat.url)
        .post(`/api/conversations/${conversation.id}/messages`)
        .set(bearer(stack.user.token))
        .send({ content });

    // The UI route.
    const tooLong = await send('a'.repeat(LIMIT + 1));
    expectProblem(tooLong, 400, 'validation_failed');
    expect(JSON.stringify(tooLong.body)).toContain(String(LIMIT + 1));
    expect(JSON.stringify(tooLong.body)).toContain(String(LIMIT));
    const events = await (
      await openSse(`${stack.chat.url}/api/conversations/${conversation.id}/messages`, stack.user.token, {
        content: 'b'.repeat(LIMIT),
      })
    ).rest();
    expect(events.at(-1)?.event).toBe('done');

    // /v1: the same limit, in OpenAI's error shape.
    const key = await createApiKey(stack.user);
    const v1 = (content: string) =>
      request(stack.chat.url)
        .post('/v1/chat/completions')
        .set(bearer(key))
        .send({ model: 'llama3.2', messages: [{ role: 'user', content }] });
    const refused = await v1('c'.repeat(LIMIT + 1));
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain(String(LIMIT + 1));
    expect(refused.body.error.message).toContain(String(LIMIT));
    expect((await v1('c'.repeat(LIMIT))).status).toBe(200);

    // Import: a user message over the limit is refused, nothing imported.
    const exported = (
      await request(stack.chat.url).get('/api/conversations/export').set(bearer(stack.user.token)).expect(200)
    ).body as ExportFile;
    const file = structuredClone(exported);
    const question = file.conversations[0]!.messages.find((m) => m.role === 'user')!;
    question.content = 'd'.repeat(LIMIT + 1);
    for (const c of file.conversations) c.id = crypto.randomUUID();
    const importRefused = await request(stack.chat.url)
      .post('/api/conversations/import')
      .set(bearer(stack.user.token))
      .send(file);
    expectProblem(importRefused, 400, 'validation_failed');
    expect(importRefused.body.detail ?? JSON.stringify(importRefused.body)).toContain(String(LIMIT + 1));
    question.content = 'd'.repeat(LIMIT);
    await request(stack.chat.url)
      .post('/api/conversations/import')
      .set(bearer(stack.user.token))
      .send(file)
      .expect(200);
  });
});

describe('the limit follows the model’s context, under MAX_MESSAGE_CHARS', () => {
  // The simulator reports the real models' contexts: qwen2.5 32,768 tokens, llama3.2 131,072.
  const QWEN_LIMIT = 32_768 * 4;

  it('GET /api/models gives each model its limit: qwen2.5 what fits its context, llama3.2 the ceiling', async () => {
    const res = await request(stack.chat.url).get('/api/models').set(bearer(stack.user.token)).expect(200);
    const limits = Object.fromEntries(
      (res.body.items as Array<{ name: string; maxMessageChars: number }>).map((m) => [
        m.name,
        m.maxMessageChars,
      ]),
    );
    expect(limits['qwen2.5:latest']).toBe(QWEN_LIMIT);
    expect(limits['llama3.2:latest']).toBe(LIMIT);
  });

  it('refuses a message longer than what fits qwen2.5, naming both numbers and why; the same text goes to llama3.2', async () => {
    const qwen = await createConversation(stack.chat, stack.user, { model: 'qwen2.5' });
    const text = 'c'.repeat(QWEN_LIMIT + 1);
    const refused = await request(stack.chat.url)
      .post(`/api/conversations/${qwen.id}/messages`)
      .set(bearer(stack.user.token))
      .send({ content: text });
    expectProblem(refused, 400, 'validation_failed');
    expect(refused.body.detail).toBe(
      `content: ${QWEN_LIMIT + 1} characters; at most ${QWEN_LIMIT} are accepted (what fits qwen2.5's context of 32768 tokens)`,
    );
    const messages = await request(stack.chat.url)
      .get(`/api/conversations/${qwen.id}/messages`)
      .set(bearer(stack.user.token))
      .expect(200);
    expect(messages.body.items).toEqual([]);

    const llama = await createConversation(stack.chat, stack.user, { model: 'llama3.2' });
    const events = await (
      await openSse(`${stack.chat.url}/api/conversations/${llama.id}/messages`, stack.user.token, {
        content: text,
      })
    ).rest();
    expect(events.at(-1)?.event).toBe('done');
  });
});
