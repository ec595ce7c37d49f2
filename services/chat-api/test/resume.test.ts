// Resumable replies: a client that lost its stream (reload, second tab, dropped connection) picks
// the reply up where it was with Last-Event-ID, on the replica generating it or on any other one
// sharing Redis (the reply's events in a Redis Stream), and the conversation list says which
// conversations have a reply still being written.
import { freePort } from '@corral/test-support';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  bearer,
  createConversation,
  openSse,
  readUntil,
  type SseEvent,
  type SseStream,
  type TestChat,
  useChatApiStack,
} from './helpers.js';

const stack = useChatApiStack({ users: ['user', 'other'] });

const tokenText = (events: SseEvent[]) =>
  events
    .filter((e) => e.event === 'token')
    .map((e) => (JSON.parse(e.data) as { text: string }).text)
    .join('');

/** Starts a reply on `chat` and reads its start and `tokens` tokens, then drops the connection. */
async function startAndDrop(chat: TestChat, tokens: number) {
  const conversation = await createConversation(chat, stack.user);
  const stream = await openSse(
    `${chat.url}/api/conversations/${conversation.id}/messages`,
    stack.user.token,
    {
      content: 'Tell me a long story',
    },
  );
  const start = JSON.parse((await readUntil(stream, 'start')).event.data) as {
    assistantMessage: { id: string };
  };
  const seen: SseEvent[] = [];
  while (seen.length < tokens) seen.push((await readUntil(stream, 'token')).event);
  stream.abort();
  return { conversationId: conversation.id, messageId: start.assistantMessage.id, seen };
}

const resume = (chat: TestChat, conversationId: string, messageId: string, lastEventId?: string) =>
  openSse(
    `${chat.url}/api/conversations/${conversationId}/messages/${messageId}/stream`,
    stack.user.token,
    undefined,
    lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId },
  );

async function savedReply(chat: TestChat, conversationId: string) {
  const res = await request(chat.url)
    .get(`/api/conversations/${conversationId}/messages`)
    .set(bearer(stack.user.token))
    .expect(200);
  return (res.body as { items: Array<{ id: string; status: string; content: string }> }).items.at(-1)!;
}

async function readAll(stream: SseStream) {
  expect(stream.status).toBe(200);
  return stream.rest();
}

describe('resuming a reply on another replica (Redis Streams)', () => {
  it('continues after Last-Event-ID on replica B a reply generated on replica A, to the end', async () => {
    stack.sim.setOptions({ tokensPerSecond: 40, responseTokens: 60 });
    const a = stack.chat;
    const b = await stack.startChat({ schema: a.schema });
    const { conversationId, messageId, seen } = await startAndDrop(a, 3);
    expect(seen.map((e) => e.id)).toEqual(['1', '2', '3']);

    const rest = await readAll(await resume(b, conversationId, messageId, '3'));
    const tokens = rest.filter((e) => e.event === 'token');
    expect(tokens[0]?.id).toBe('4');
    expect(rest.at(-1)?.event).toBe('done');
    expect(JSON.parse(rest.at(-1)!.data)).toMatchObject({
      messageId,
      status: 'complete',
      completionTokens: 60,
    });
    expect(b.ctx.generations.get(messageId)).toBeUndefined();

    // What was seen before the drop plus what came after is the saved reply, nothing twice.
    const saved = await savedReply(b, conversationId);
    expect(saved.status).toBe('complete');
    expect(tokenText(seen) + tokenText(rest)).toBe(saved.content);

    // A reload once the reply is finished: its saved text and how it ended.
    const again = await readAll(await resume(b, conversationId, messageId));
    expect(again.map((e) => e.event)).toEqual(['snapshot', 'done']);
    expect(JSON.parse(again[0]!.data)).toEqual({ text: saved.content });
  });

  it('a Stop sent to B ends the reply a client follows on B while A generates it', async () => {
    stack.sim.setOptions({ tokensPerSecond: 20, responseTokens: 1000 });
    const a = stack.chat;
    const b = await stack.startChat({ schema: a.schema });
    const { conversationId, messageId } = await startAndDrop(a, 2);
    // A second tab opening the conversation on B: the whole reply so far, then each new token.
    const follower = await resume(b, conversationId, messageId);
    expect((await readUntil(follower, 'token')).event.id).toBe('1');
    await request(b.url)
      .post(`/api/conversations/${conversationId}/stop`)
      .set(bearer(stack.user.token))
      .expect(200);
    const done = await readUntil(follower, 'done');
    expect(JSON.parse(done.event.data)).toMatchObject({ messageId, status: 'stopped' });
  });
});

describe('resuming without Redis', () => {
  it('the replica generating the reply resumes it from its own memory', async () => {
    stack.sim.setOptions({ tokensPerSecond: 40, responseTokens: 40 });
    const chat = await stack.startChat({ env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}` } });
    const { conversationId, messageId, seen } = await startAndDrop(chat, 2);
    const rest = await readAll(await resume(chat, conversationId, messageId, '2'));
    expect(rest.at(-1)?.event).toBe('done');
    expect(tokenText(seen) + tokenText(rest)).toBe((await savedReply(chat, conversationId)).content);
  });

  it('a reply whose events are gone comes back as the saved text (snapshot) and its end', async () => {
    stack.sim.setOptions({ tokensPerSecond: 0, responseTokens: 12 });
    const conversation = await createConversation(stack.chat, stack.user);
    const events = await (
      await openSse(`${stack.chat.url}/api/conversations/${conversation.id}/messages`, stack.user.token, {
        content: 'hi',
      })
    ).rest();
    const messageId = (JSON.parse(events[0]!.data) as { assistantMessage: { id: string } }).assistantMessage
      .id;
    // Another chat-api with its own Redis prefix: it holds none of this reply's events.
    const elsewhere = await stack.startChat({
      schema: stack.chat.schema,
      keyPrefix: 'corral:test:elsewhere:',
    });
    const rest = await readAll(await resume(elsewhere, conversation.id, messageId, '5'));
    expect(rest.map((e) => e.event)).toEqual(['snapshot', 'done']);
    expect(JSON.parse(rest[0]!.data)).toEqual({ text: tokenText(events) });
  });
});

describe('the conversation list', () => {
  it('names the conversations whose reply is still being written', async () => {
    stack.sim.setOptions({ tokensPerSecond: 20, responseTokens: 1000 });
    const { conversationId } = await startAndDrop(stack.chat, 1);
    const list = () =>
      request(stack.chat.url).get('/api/conversations').set(bearer(stack.user.token)).expect(200);
    expect((await list()).body.replying).toEqual([conversationId]);
    await request(stack.chat.url)
      .post(`/api/conversations/${conversationId}/stop`)
      .set(bearer(stack.user.token))
      .expect(200);
    expect((await list()).body.replying).toEqual([]);
  });
});

describe('resume: bad input and other users', () => {
  it('400 for a Last-Event-ID that is not a position; 404 for another user’s reply', async () => {
    stack.sim.setOptions({ tokensPerSecond: 0, responseTokens: 4 });
    const conversation = await createConversation(stack.chat, stack.user);
    const events = await (
      await openSse(`${stack.chat.url}/api/conversations/${conversation.id}/messages`, stack.user.token, {
        content: 'hi',
      })
    ).rest();
    const messageId = (JSON.parse(events[0]!.data) as { assistantMessage: { id: string } }).assistantMessage
      .id;
    const path = `/api/conversations/${conversation.id}/messages/${messageId}/stream`;
    const bad = await request(stack.chat.url)
      .get(path)
      .set(bearer(stack.user.token))
      .set('Last-Event-ID', 'yesterday');
    expect(bad.status).toBe(400);
    const foreign = await request(stack.chat.url).get(path).set(bearer(stack.other.token));
    expect(foreign.status).toBe(404);
  });
});
