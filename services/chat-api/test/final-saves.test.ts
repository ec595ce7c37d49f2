import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { TcpRelay, TEST_DATABASE_URL } from '@corral/test-support';
import request from 'supertest';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createConversation,
  openSse,
  pendingSavesFile,
  readUntil,
  type TestChat,
  useChatApiStack,
} from './helpers.js';

const stack = useChatApiStack({ chat: false, users: ['user'] });

beforeAll(() => stack.sim.addModel('qwen3'));

afterEach(() => stack.sim.setOptions({ tokensPerSecond: 0, responseTokens: 24 }));

async function metric(chat: TestChat, pattern: RegExp): Promise<number> {
  const text = (await request(chat.url).get('/metrics').expect(200)).text;
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

interface StoredReply {
  id: string;
  status: string;
  content: string;
  reasoning: string | null;
  completionTokens: number | null;
}

async function storedReply(
  chat: TestChat,
  conversationId: string,
  id: string,
): Promise<StoredReply | undefined> {
  const res = await request(chat.url)
    .get(`/api/conversations/${conversationId}/messages`)
    .set(bearer(stack.user.token));
  if (res.status !== 200) return undefined;
  return (res.body as { items: StoredReply[] }).items.find((m) => m.id === id);
}

/** chat-api whose PostgreSQL is reached through a relay the test cuts and restores (the shared server runs on). */
async function chatBehindRelay(schema: string): Promise<{ chat: TestChat; link: TcpRelay }> {
  const link = new TcpRelay(TEST_DATABASE_URL);
  await link.open();
  const chat = await stack.startChat({
    schema,
    env: {
      DATABASE_URL: `${link.url}?schema=${schema}`,
      // The sweep would label an orphan interrupted within a second or two.
      STREAM_STALE_SECONDS: '1',
      SWEEP_INTERVAL_SECONDS: '1',
    },
  });
  return { chat, link };
}

/**
 * Streams a reply and cuts PostgreSQL after its first token; returns the text (and, from a thinking
 * model, the reasoning) sent and the `done` event.
 */
async function replyWhileDatabaseGoes(chat: TestChat, link: TcpRelay, model?: string) {
  stack.sim.setOptions({ tokensPerSecond: 60, responseTokens: 90 });
  const conversation = await createConversation(chat, stack.user, model ? { model } : {});
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
  const first = await readUntil(stream, 'token');
  await link.close();
  const rest = await readUntil(stream, 'done');
  const textOf = (events: { event: string; data: string }[], name: string) =>
    events
      .filter((e) => e.event === name)
      .map((e) => (JSON.parse(e.data) as { text: string }).text)
      .join('');
  const text = textOf([first.event, ...rest.before], 'token');
  const reasoning = textOf(first.before, 'thinking');
  const done = JSON.parse(rest.event.data) as { status: string; finalSave: string; completionTokens: number };
  return {
    conversationId: conversation.id as string,
    replyId: start.assistantMessage.id,
    text,
    reasoning,
    done,
  };
}

describe('a reply that finishes while PostgreSQL is away', () => {
  it('is reported as pending, retried with backoff, and stored whole and complete once the database is back', async () => {
    const { chat, link } = await chatBehindRelay(stack.schema());
    const { conversationId, replyId, text, done } = await replyWhileDatabaseGoes(chat, link);
    expect(done).toMatchObject({ status: 'complete', finalSave: 'pending', completionTokens: 90 });
    expect(await metric(chat, /corral_chat_pending_final_saves (\d+)/)).toBe(1);
    // Retried while away.
    await expect
      .poll(() => metric(chat, /corral_chat_final_save_retries_total (\d+)/), { timeout: 10_000 })
      .toBeGreaterThan(0);

    await link.open();
    await expect
      .poll(() => storedReply(chat, conversationId, replyId), { timeout: 20_000 })
      .toMatchObject({ status: 'complete', completionTokens: 90 });
    expect((await storedReply(chat, conversationId, replyId))!.content).toBe(text);
    expect(await metric(chat, /corral_chat_pending_final_saves (\d+)/)).toBe(0);
    // The sweep (every second, 1 s stale) never overwrites it afterwards either.
    await expect.poll(() => metric(chat, /corral_chat_final_save_retries_total (\d+)/)).toBeGreaterThan(0);
    expect((await storedReply(chat, conversationId, replyId))!.status).toBe('complete');
  });

  it('is written to the spill file at shutdown and stored by the next start', async () => {
    const schema = stack.schema();
    const first = await chatBehindRelay(schema);
    const { conversationId, replyId, text, done } = await replyWhileDatabaseGoes(first.chat, first.link);
    expect(done).toMatchObject({ status: 'complete', finalSave: 'pending' });
    await first.chat.close();
    expect(existsSync(pendingSavesFile(schema)), 'spill file after shutdown').toBe(true);

    await first.link.open();
    const second = await stack.startChat({ schema });
    const stored = await storedReply(second, conversationId, replyId);
    expect(stored).toMatchObject({ status: 'complete', completionTokens: 90, content: text });
    expect(existsSync(pendingSavesFile(schema)), 'spill file after replay').toBe(false);
    await first.link.close();
  });

  it('keeps a thinking reply’s reasoning through the spill file; a record spilled without it (previous release) still replays', async () => {
    for (const previousRelease of [false, true]) {
      const schema = stack.schema();
      const first = await chatBehindRelay(schema);
      const { conversationId, replyId, text, reasoning, done } = await replyWhileDatabaseGoes(
        first.chat,
        first.link,
        'qwen3',
      );
      expect(done).toMatchObject({ status: 'complete', finalSave: 'pending' });
      expect(reasoning.length).toBeGreaterThan(0);
      await first.chat.close();
      const file = pendingSavesFile(schema);
      const [record] = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { outcome: Record<string, unknown> });
      expect(record!.outcome.reasoning).toBe(reasoning);
      if (previousRelease) {
        delete record!.outcome.reasoning;
        writeFileSync(file, `${JSON.stringify(record)}\n`);
      }

      await first.link.open();
      const second = await stack.startChat({ schema });
      expect(await storedReply(second, conversationId, replyId)).toMatchObject({
        status: 'complete',
        content: text,
        reasoning: previousRelease ? null : reasoning,
      });
      expect(existsSync(file), 'spill file after replay').toBe(false);
      await first.link.close();
    }
  });
});
