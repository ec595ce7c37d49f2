import { type Message, replyStart } from '@corral/contracts';
import { expectedChatReply } from '@corral/ollama-sim';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  bearer,
  createConversation,
  expectProblem,
  openSse,
  readUntil,
  startChat,
  useChatApiStack,
} from './helpers.js';

const stack = useChatApiStack({
  // Many requests from one user; the rate limit has its own tests (limits.test.ts).
  chat: { env: { MAX_CONCURRENT_STREAMS: '10', RATE_LIMIT_PER_MINUTE: '1000' } },
  users: ['alice'],
});

const expected = (content: string, responseTokens = 24) =>
  expectedChatReply({ model: 'llama3.2', messages: [{ role: 'user', content }] }, { responseTokens });

const sendUrl = (id: string) => `${stack.chat.url}/api/conversations/${id}/messages`;

async function messages(conversationId: string, branch: 'current' | 'all' = 'current'): Promise<Message[]> {
  const res = await request(stack.chat.url)
    .get(`/api/conversations/${conversationId}/messages?branch=${branch}`)
    .set(bearer(stack.alice.token))
    .expect(200);
  return (res.body as { items: Message[] }).items;
}

async function reply(conversationId: string): Promise<Message> {
  const items = await messages(conversationId);
  return items.at(-1)!;
}

describe('streaming replies: happy path', () => {
  it('streams a reply token by token over SSE, then saves the whole conversation with token counts', async () => {
    const conversation = await createConversation(stack.chat, stack.alice);
    const stream = await openSse(sendUrl(conversation.id), stack.alice.token, { content: 'Hello there' });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await stream.rest();
    expect(events[0]?.event).toBe('start');
    const tokens = events
      .filter((e) => e.event === 'token')
      .map((e) => (JSON.parse(e.data) as { text: string }).text);
    const reference = expected('Hello there');
    expect(tokens.length).toBe(reference.tokens.length);
    expect(tokens.join('')).toBe(reference.text);
    const done = JSON.parse(events.at(-1)!.data) as Record<string, unknown>;
    expect(events.at(-1)?.event).toBe('done');
    expect(done).toMatchObject({ status: 'complete', completionTokens: reference.evalCount });
    expect(done.promptTokens).toBeGreaterThan(0);

    // A second turn carries the history; reload shows every message with its counts.
    await (await openSse(sendUrl(conversation.id), stack.alice.token, { content: 'And then?' })).rest();
    const saved = await messages(conversation.id);
    expect(saved.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
    expect(saved[1]).toMatchObject({
      content: reference.text,
      completionTokens: reference.evalCount,
      id: done.messageId,
    });
    expect(saved[3]).toMatchObject({ content: expected('And then?').text });
    expect(saved[3]!.promptTokens).toBeGreaterThan(saved[1]!.promptTokens!);
    expect(saved[2]!.parentId).toBe(saved[1]!.id);
    const read = await request(stack.chat.url)
      .get(`/api/conversations/${conversation.id}`)
      .set(bearer(stack.alice.token))
      .expect(200);
    expect(read.body.conversation.title).toBe('Hello there');
  });

  it('commits the user message before the model says anything', async () => {
    stack.sim.setFailure({ mode: 'hang', paths: ['/api/chat'] });
    const conversation = await createConversation(stack.chat, stack.alice);
    const stream = await openSse(sendUrl(conversation.id), stack.alice.token, { content: 'Are you there?' });
    const start = replyStart.parse(JSON.parse((await readUntil(stream, 'start')).event.data));
    const rows = await stack.chat.ctx.db.prisma.message.findMany({
      where: { conversationId: conversation.id },
      orderBy: { createdAt: 'asc' },
    });
    expect(rows.map((m) => [m.role, m.status, m.content])).toEqual([
      ['user', 'complete', 'Are you there?'],
      ['assistant', 'streaming', ''],
    ]);
    expect(rows[0]!.id).toBe(start.userMessage?.id);
    await request(stack.chat.url)
      .post(`/api/conversations/${conversation.id}/stop`)
      .set(bearer(stack.alice.token))
      .expect(200);
    const done = await readUntil(stream, 'done');
    expect(JSON.parse(done.event.data)).toMatchObject({ status: 'stopped', completionTokens: 0 });
  });

  it('keeps generating when the client disconnects, and the whole reply is there on reload', async () => {
    stack.sim.setOptions({ tokensPerSecond: 40, responseTokens: 40 });
    const cancelledBefore = stack.sim.stats().cancelled;
    const conversation = await createConversation(stack.chat, stack.alice);
    const stream = await openSse(sendUrl(conversation.id), stack.alice.token, { content: 'Tell me a story' });
    await readUntil(stream, 'token');
    stream.abort();
    await expect
      .poll(async () => (await reply(conversation.id)).status, { timeout: 10_000 })
      .toBe('complete');
    const saved = await reply(conversation.id);
    const reference = expected('Tell me a story', 40);
    expect(saved).toMatchObject({ content: reference.text, completionTokens: reference.evalCount });
    expect(stack.sim.stats().cancelled).toBe(cancelledBefore);
  });

  it('stop ends the stream, aborts the model request and keeps the partial text as stopped', async () => {
    stack.sim.setOptions({ tokensPerSecond: 20, responseTokens: 1000 });
    const cancelledBefore = stack.sim.stats().cancelled;
    const conversation = await createConversation(stack.chat, stack.alice);
    const stream = await openSse(sendUrl(conversation.id), stack.alice.token, {
      content: 'Count to a thousand',
    });
    await readUntil(stream, 'token');
    await readUntil(stream, 'token');
    const stop = await request(stack.chat.url)
      .post(`/api/conversations/${conversation.id}/stop`)
      .set(bearer(stack.alice.token))
      .expect(200);
    expect(stop.body.stopping).toHaveLength(1);
    const done = JSON.parse((await readUntil(stream, 'done')).event.data) as {
      status: string;
      completionTokens: number;
    };
    expect(done.status).toBe('stopped');
    const saved = await reply(conversation.id);
    expect(saved.status).toBe('stopped');
    expect(saved.content.length).toBeGreaterThan(0);
    const full = expected('Count to a thousand', 1000).text;
    expect(full.startsWith(saved.content)).toBe(true);
    expect(saved.content.length).toBeLessThan(full.length);
    await expect.poll(() => stack.sim.stats().cancelled).toBeGreaterThan(cancelledBefore);
  });

  it('stop sent to another replica ends the stream running on this one', async () => {
    const replica = await startChat(stack.sim, {
      schema: stack.chat.schema,
      keyPrefix: stack.chat.kit.config.REDIS_KEY_PREFIX,
    });
    try {
      stack.sim.setOptions({ tokensPerSecond: 20, responseTokens: 1000 });
      const cancelledBefore = stack.sim.stats().cancelled;
      const conversation = await createConversation(stack.chat, stack.alice);
      const stream = await openSse(sendUrl(conversation.id), stack.alice.token, { content: 'Go on forever' });
      await readUntil(stream, 'token');
      expect(replica.ctx.generations.size).toBe(0);
      const stop = await request(replica.url)
        .post(`/api/conversations/${conversation.id}/stop`)
        .set(bearer(stack.alice.token))
        .expect(200);
      expect(stop.body.stopping).toHaveLength(1);
      const done = JSON.parse((await readUntil(stream, 'done')).event.data) as { status: string };
      expect(done.status).toBe('stopped');
      const saved = await reply(conversation.id);
      expect(saved.status).toBe('stopped');
      expect(saved.content.length).toBeGreaterThan(0);
      await expect.poll(() => stack.sim.stats().cancelled).toBeGreaterThan(cancelledBefore);
    } finally {
      await replica.close();
    }
  });

  it('regenerates a reply and edits a question as new branches, keeping the old ones', async () => {
    const conversation = await createConversation(stack.chat, stack.alice);
    await (await openSse(sendUrl(conversation.id), stack.alice.token, { content: 'First question' })).rest();
    const [question, firstAnswer] = await messages(conversation.id);

    const regenerated = await openSse(
      `${sendUrl(conversation.id)}/${firstAnswer!.id}/regenerate`,
      stack.alice.token,
      {
        model: 'qwen2.5',
      },
    );
    const regeneratedEvents = await regenerated.rest();
    expect(regeneratedEvents.at(-1)?.event).toBe('done');
    const afterRegenerate = await messages(conversation.id);
    expect(afterRegenerate).toHaveLength(2);
    expect(afterRegenerate[0]!.id).toBe(question!.id);
    expect(afterRegenerate[1]!.id).not.toBe(firstAnswer!.id);
    expect(afterRegenerate[1]!.parentId).toBe(question!.id);
    expect(afterRegenerate[1]!.content).toBe(
      expectedChatReply({ model: 'qwen2.5', messages: [{ role: 'user', content: 'First question' }] }).text,
    );

    await (
      await openSse(`${sendUrl(conversation.id)}/${question!.id}/edit`, stack.alice.token, {
        content: 'Better question',
      })
    ).rest();
    const current = await messages(conversation.id);
    expect(current.map((m) => m.content)).toEqual(['Better question', expected('Better question').text]);
    const all = await messages(conversation.id, 'all');
    expect(all).toHaveLength(5); // question, two answers, the edited question and its answer
    expect(all.map((m) => m.id)).toEqual(expect.arrayContaining([question!.id, firstAnswer!.id]));
  });
});

describe('streaming replies: switching branches', () => {
  async function conversationWithTwoAnswers() {
    const conversation = await createConversation(stack.chat, stack.alice);
    await (await openSse(sendUrl(conversation.id), stack.alice.token, { content: 'Pick a colour' })).rest();
    const [question, firstAnswer] = await messages(conversation.id);
    await (
      await openSse(`${sendUrl(conversation.id)}/${firstAnswer!.id}/regenerate`, stack.alice.token, {
        model: 'qwen2.5',
      })
    ).rest();
    const [, secondAnswer] = await messages(conversation.id);
    return { conversation, question: question!, firstAnswer: firstAnswer!, secondAnswer: secondAnswer! };
  }
  const patch = (conversationId: string, body: Record<string, unknown>) =>
    request(stack.chat.url)
      .patch(`/api/conversations/${conversationId}`)
      .set(bearer(stack.alice.token))
      .send(body);

  it('keeps the branch the user switched to, without moving the conversation up the list, and continues it', async () => {
    const { conversation, firstAnswer, secondAnswer } = await conversationWithTwoAnswers();
    const before = (
      await request(stack.chat.url)
        .get(`/api/conversations/${conversation.id}`)
        .set(bearer(stack.alice.token))
        .expect(200)
    ).body.conversation as { updatedAt: string; currentMessageId: string };
    expect(before.currentMessageId).toBe(secondAnswer.id);

    const res = await patch(conversation.id, { currentMessageId: firstAnswer.id }).expect(200);
    expect(res.body.conversation).toMatchObject({
      currentMessageId: firstAnswer.id,
      updatedAt: before.updatedAt,
    });
    expect((await messages(conversation.id)).map((m) => m.id)).toContain(firstAnswer.id);

    await (await openSse(sendUrl(conversation.id), stack.alice.token, { content: 'Why that one?' })).rest();
    const current = await messages(conversation.id);
    expect(current.map((m) => m.content)).toEqual([
      'Pick a colour',
      firstAnswer.content,
      'Why that one?',
      expect.any(String),
    ]);
    expect(current[2]!.parentId).toBe(firstAnswer.id);
  });

  it("refuses a message that is not the conversation's, and a switch while a reply is being written", async () => {
    const { conversation, firstAnswer } = await conversationWithTwoAnswers();
    const other = await conversationWithTwoAnswers();
    const foreign = await patch(conversation.id, { currentMessageId: other.firstAnswer.id });
    expectProblem(foreign, 400, 'validation_failed');
    expect(foreign.body.errors).toEqual([expect.objectContaining({ path: 'body.currentMessageId' })]);
    expectProblem(await patch(conversation.id, { currentMessageId: 'not-a-uuid' }), 400, 'validation_failed');

    stack.sim.setOptions({ tokensPerSecond: 20, responseTokens: 1000 });
    const stream = await openSse(sendUrl(conversation.id), stack.alice.token, { content: 'Keep going' });
    await readUntil(stream, 'token');
    expectProblem(await patch(conversation.id, { currentMessageId: firstAnswer.id }), 409, 'conflict');
    stream.abort();
    await request(stack.chat.url)
      .post(`/api/conversations/${conversation.id}/stop`)
      .set(bearer(stack.alice.token))
      .expect(200);
    const current = await messages(conversation.id);
    expect(current.at(-1)!.parentId).toBe(current.at(-2)!.id);
    expect(current.at(-2)!.content).toBe('Keep going');
  });
});

describe('streaming replies: error paths', () => {
  it('reports a model failure as an error event and saves the message as error', async () => {
    stack.sim.setFailure({ mode: 'error-500', message: 'GPU on fire', paths: ['/api/chat'], times: 1 });
    const conversation = await createConversation(stack.chat, stack.alice);
    const events = await (
      await openSse(sendUrl(conversation.id), stack.alice.token, { content: 'Hi' })
    ).rest();
    expect(events.at(-1)?.event).toBe('error');
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ status: 'error', code: 'bad_gateway' });
    const saved = await reply(conversation.id);
    expect(saved.status).toBe('error');
    expect(saved.error).toContain('GPU on fire');
  });

  it('keeps the partial text when the model drops mid-stream', async () => {
    stack.sim.setFailure({ mode: 'drop-mid-stream', afterTokens: 5, paths: ['/api/chat'], times: 1 });
    const conversation = await createConversation(stack.chat, stack.alice);
    const events = await (
      await openSse(sendUrl(conversation.id), stack.alice.token, { content: 'Partial please' })
    ).rest();
    expect(events.filter((e) => e.event === 'token')).toHaveLength(5);
    expect(events.at(-1)?.event).toBe('error');
    const saved = await reply(conversation.id);
    expect(saved.status).toBe('error');
    expect(expected('Partial please').text.startsWith(saved.content)).toBe(true);
    expect(saved.content.length).toBeGreaterThan(0);
  });

  it('refuses an empty message with 400 and an unknown message id with 404', async () => {
    const conversation = await createConversation(stack.chat, stack.alice);
    expectProblem(
      await request(stack.chat.url)
        .post(`/api/conversations/${conversation.id}/messages`)
        .set(bearer(stack.alice.token))
        .send({ content: '  ' }),
      400,
      'validation_failed',
    );
    expectProblem(
      await request(stack.chat.url)
        .post(
          `/api/conversations/${conversation.id}/messages/00000000-0000-4000-8000-000000000000/regenerate`,
        )
        .set(bearer(stack.alice.token)),
      404,
      'not_found',
    );
    expect(await messages(conversation.id)).toEqual([]);
  });

  it('marks replies a dead process left streaming as interrupted at start-up, keeping their text', async () => {
    const conversation = await createConversation(stack.chat, stack.alice);
    const orphan = await stack.chat.ctx.db.prisma.message.create({
      data: {
        conversationId: conversation.id,
        role: 'assistant',
        status: 'streaming',
        content: 'half a repl',
        updatedAt: new Date(Date.now() - 3_600_000),
      },
    });
    const restarted = await startChat(stack.sim, { schema: stack.chat.schema });
    await restarted.close();
    const row = await stack.chat.ctx.db.prisma.message.findUniqueOrThrow({ where: { id: orphan.id } });
    expect(row).toMatchObject({ status: 'interrupted', content: 'half a repl' });
  });
});

describe('streaming replies: security', () => {
  it('refuses to stream without a token', async () => {
    const conversation = await createConversation(stack.chat, stack.alice);
    expectProblem(
      await request(stack.chat.url)
        .post(`/api/conversations/${conversation.id}/messages`)
        .send({ content: 'hi' }),
      401,
      'unauthorized',
    );
  });
});
