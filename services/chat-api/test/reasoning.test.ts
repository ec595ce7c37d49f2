import { type ExportFile, IMPORT_MAX_MESSAGE_CHARS, type ImportResult, messageList } from '@corral/contracts';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createConversation,
  openSse,
  readUntil,
  type TestChat,
  type TestUser,
  useChatApiStack,
} from './helpers.js';
import { type ChatRelay, startChatRelay } from './chat-relay.js';

// A thinking model's reasoning is stored with its reply (shown after a reload, exported, imported)
// and never sent back to the model. A relay between chat-api and the sim keeps every /api/chat body,
// so what the next turn sends is checked on the wire.
const stack = useChatApiStack({ chat: false, users: ['owner', 'other'] });
let relay: ChatRelay;
let chat: TestChat;

beforeAll(async () => {
  stack.sim.addModel('qwen3');
  relay = await startChatRelay(stack.sim.url);
  chat = await stack.startChat({ env: { GATEWAY_URL: relay.url } });
});

afterAll(() => relay.close());

afterEach(() => stack.sim.setOptions({ tokensPerSecond: 0, responseTokens: 24 }));

/** Sends a message; the reasoning and answer streamed, read until `done` (or after `stopAfter` thinking events, stopped). */
async function say(user: TestUser, conversationId: string, content: string, stopAfter?: number) {
  const stream = await openSse(`${chat.url}/api/conversations/${conversationId}/messages`, user.token, {
    content,
  });
  const seen: { event: string; data: string }[] = [];
  if (stopAfter !== undefined) {
    for (let i = 0; i < stopAfter; i++) seen.push((await readUntil(stream, 'thinking')).event);
    await request(chat.url)
      .post(`/api/conversations/${conversationId}/stop`)
      .set(bearer(user.token))
      .expect(200);
  }
  const { before, event } = await readUntil(stream, 'done');
  seen.push(...before);
  const text = (name: string) =>
    seen
      .filter((e) => e.event === name)
      .map((e) => (JSON.parse(e.data) as { text: string }).text)
      .join('');
  return {
    thinking: text('thinking'),
    answer: text('token'),
    done: JSON.parse(event.data) as { status: string },
  };
}

async function messagesOf(user: TestUser, conversationId: string) {
  const res = await request(chat.url)
    .get(`/api/conversations/${conversationId}/messages`)
    .set(bearer(user.token))
    .expect(200);
  return messageList.parse(res.body).items;
}

describe('a thinking model’s reasoning', () => {
  it('is stored with its reply, and the next turn sends the model the answer only', async () => {
    const conversation = await createConversation(chat, stack.owner, { model: 'qwen3' });
    const first = await say(stack.owner, conversation.id, 'Think first');
    expect(first.thinking.length).toBeGreaterThan(0);

    const [question, reply] = await messagesOf(stack.owner, conversation.id);
    expect(question).toMatchObject({ role: 'user', reasoning: null });
    expect(reply).toMatchObject({ role: 'assistant', content: first.answer, reasoning: first.thinking });

    const before = relay.bodies.length;
    await say(stack.owner, conversation.id, 'And then?');
    expect(relay.bodies.length).toBe(before + 1);
    const history = JSON.parse(relay.bodies.at(-1)!) as { messages: Record<string, unknown>[] };
    expect(history.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(history.messages[1]).toEqual({ role: 'assistant', content: first.answer });
    expect(relay.bodies.at(-1)).not.toContain(first.thinking);
  });

  it('streamed so far is kept when the reply is stopped while it thinks', async () => {
    stack.sim.setOptions({ tokensPerSecond: 20, responseTokens: 1000 });
    const conversation = await createConversation(chat, stack.owner, { model: 'qwen3' });
    const stopped = await say(stack.owner, conversation.id, 'Think at length', 2);
    expect(stopped.done.status).toBe('stopped');
    const reply = (await messagesOf(stack.owner, conversation.id)).find((m) => m.role === 'assistant')!;
    expect(reply).toMatchObject({ status: 'stopped', content: '', reasoning: stopped.thinking });
    expect(reply.reasoning!.split(' ').length).toBeLessThan(1000);
  });

  it('is null for a model that does not think', async () => {
    const conversation = await createConversation(chat, stack.owner, { model: 'llama3.2' });
    await say(stack.owner, conversation.id, 'Hello');
    const reply = (await messagesOf(stack.owner, conversation.id)).find((m) => m.role === 'assistant')!;
    expect(reply.content.length).toBeGreaterThan(0);
    expect(reply.reasoning).toBeNull();
  });

  it('travels through export and import; a file without it imports as none', async () => {
    const conversation = await createConversation(chat, stack.owner, { model: 'qwen3' });
    const { thinking } = await say(stack.owner, conversation.id, 'Think it over');
    const res = await request(chat.url)
      .get(`/api/conversations/${conversation.id}/export`)
      .set(bearer(stack.owner.token))
      .expect(200);
    const file = JSON.parse(res.text) as ExportFile;
    const exported = file.conversations[0]!.messages;
    expect(exported.map((m) => m.reasoning)).toEqual([null, thinking]);

    const imported = await request(chat.url)
      .post('/api/conversations/import')
      .set(bearer(stack.other.token))
      .send(file)
      .expect(200);
    const copy = (imported.body as ImportResult).renamed[0]!.to;
    expect((await messagesOf(stack.other, copy)).map((m) => m.reasoning)).toEqual([null, thinking]);

    // A file written before reasoning was stored has no such field.
    const older = structuredClone(file);
    for (const m of older.conversations[0]!.messages) delete m.reasoning;
    older.conversations[0]!.id = crypto.randomUUID();
    const again = await request(chat.url)
      .post('/api/conversations/import')
      .set(bearer(stack.owner.token))
      .send(older);
    expect(again.status, again.text).toBe(200);
    expect((again.body as ImportResult).imported).toBe(1);
    const restored = (again.body as ImportResult).renamed[0]?.to ?? older.conversations[0]!.id;
    const items = await messagesOf(stack.owner, restored);
    expect(items.map((m) => [m.content.length > 0, m.reasoning])).toEqual([
      [true, null],
      [true, null],
    ]);
  });

  it('over the per-message size limit is refused on import, naming the field', async () => {
    const conversation = await createConversation(chat, stack.owner, { model: 'qwen3' });
    await say(stack.owner, conversation.id, 'Think once more');
    const res = await request(chat.url)
      .get(`/api/conversations/${conversation.id}/export`)
      .set(bearer(stack.owner.token))
      .expect(200);
    const file = JSON.parse(res.text) as ExportFile;
    file.conversations[0]!.messages[1]!.reasoning = 'x'.repeat(IMPORT_MAX_MESSAGE_CHARS + 1);
    const refused = await request(chat.url)
      .post('/api/conversations/import')
      .set(bearer(stack.other.token))
      .send(file);
    expect(refused.status, refused.text).toBe(400);
    expect(refused.text).toContain('reasoning');
  });
});
