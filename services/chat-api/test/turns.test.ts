import type { Message, ReplySummary } from '@corral/contracts';
import { countPromptTokens } from '@corral/ollama-sim';
import OpenAI from 'openai';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  bearer,
  createApiKey,
  createConversation,
  openSse,
  signUp,
  type TestUser,
  useChatApiStack,
} from './helpers.js';

// What a chat turn stores in one statement, and usage written in batches, seen from outside.
const stack = useChatApiStack({ chat: { env: { MAX_CONCURRENT_STREAMS: '50' } } });

async function say(
  user: TestUser,
  conversationId: string,
  path: string,
  body: unknown,
): Promise<ReplySummary> {
  const url = `${stack.chat.url}/api/conversations/${conversationId}/messages${path}`;
  const events = await (await openSse(url, user.token, body)).rest();
  const last = events.at(-1);
  expect(last?.event, JSON.stringify(events.at(-1))).toBe('done');
  return JSON.parse(last!.data) as ReplySummary;
}

async function branch(user: TestUser, conversationId: string): Promise<Message[]> {
  const res = await request(stack.chat.url)
    .get(`/api/conversations/${conversationId}/messages`)
    .set(bearer(user.token))
    .expect(200);
  return (res.body as { items: Message[] }).items;
}

async function usageToday(user: TestUser) {
  const res = await request(stack.chat.url).get('/api/usage?days=1').set(bearer(user.token)).expect(200);
  const rows = (
    res.body as { items: Array<{ requests: number; promptTokens: number; completionTokens: number }> }
  ).items;
  return rows.reduce(
    (sum, row) => ({
      requests: sum.requests + row.requests,
      promptTokens: sum.promptTokens + row.promptTokens,
      completionTokens: sum.completionTokens + row.completionTokens,
    }),
    { requests: 0, promptTokens: 0, completionTokens: 0 },
  );
}

describe('chat turns: happy path', () => {
  it('sends the model the system prompt and the current branch only, after an edit too', async () => {
    const user = await signUp();
    const conversation = await createConversation(stack.chat, user, { systemPrompt: 'Answer in one line.' });
    await say(user, conversation.id, '', { content: 'First question' });
    const [question] = await branch(user, conversation.id);
    await say(user, conversation.id, `/${question!.id}/edit`, { content: 'Better first question' });
    const done = await say(user, conversation.id, '', { content: 'And a follow-up' });

    const current = await branch(user, conversation.id);
    expect(current.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
    expect(current[0]!.content).toBe('Better first question');
    // The sim counts the prompt tokens of every message it was sent.
    const sent = ['Answer in one line.', ...current.slice(0, 3).map((m) => m.content)];
    expect(done.promptTokens).toBe(countPromptTokens(sent.join('\n')));
  });

  it('stores every turn and its usage when many conversations reply at once', async () => {
    const user = await signUp();
    const conversations = await Promise.all(
      Array.from({ length: 12 }, () => createConversation(stack.chat, user)),
    );
    const done = await Promise.all(
      conversations.map((c, i) => say(user, c.id, '', { content: `Question number ${i}` })),
    );
    for (const [i, c] of conversations.entries()) {
      const messages = await branch(user, c.id);
      expect(messages.map((m) => [m.role, m.status])).toEqual([
        ['user', 'complete'],
        ['assistant', 'complete'],
      ]);
      expect(messages[0]!.content).toBe(`Question number ${i}`);
      expect(messages[1]!.id).toBe(done[i]!.messageId);
    }
    expect(await usageToday(user)).toEqual({
      requests: 12,
      promptTokens: done.reduce((sum, d) => sum + (d.promptTokens ?? 0), 0),
      completionTokens: done.reduce((sum, d) => sum + (d.completionTokens ?? 0), 0),
    });
  });
});

describe('/v1 usage: happy path', () => {
  it('counts every completion of a burst, per user and per API key', async () => {
    const user = await signUp();
    const client = new OpenAI({
      apiKey: await createApiKey(user),
      baseURL: `${stack.chat.url}/v1`,
      maxRetries: 0,
    });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.chat.completions.create({
          model: 'llama3.2',
          messages: [{ role: 'user', content: `Burst question ${i}` }],
          stream: i % 2 === 0,
          stream_options: i % 2 === 0 ? { include_usage: true } : null,
        }),
      ),
    );
    let promptTokens = 0;
    let completionTokens = 0;
    for (const answer of answers) {
      if ('object' in answer && answer.object === 'chat.completion') {
        promptTokens += answer.usage!.prompt_tokens;
        completionTokens += answer.usage!.completion_tokens;
      } else {
        for await (const chunk of answer as AsyncIterable<OpenAI.ChatCompletionChunk>) {
          promptTokens += chunk.usage?.prompt_tokens ?? 0;
          completionTokens += chunk.usage?.completion_tokens ?? 0;
        }
      }
    }
    expect(await usageToday(user)).toEqual({ requests: 20, promptTokens, completionTokens });
    const { rows } = await stack.chat.ctx.db.pool.query<{ requests: number }>(
      `SELECT requests FROM usage_records WHERE user_id = $1 AND api_key_id <> ''`,
      [user.id],
    );
    expect(rows).toEqual([{ requests: 20 }]);
  });
});

describe('usage ledger: error paths', () => {
  it('keeps usage it could not write and writes it once the table answers again', async () => {
    const chat = await stack.startChat();
    const user = await signUp();
    await chat.ctx.db.pool.query('ALTER TABLE usage_records RENAME TO usage_records_away');
    try {
      chat.ctx.usage.record({
        userId: user.id,
        apiKeyId: null,
        model: 'llama3.2',
        promptTokens: 7,
        completionTokens: 5,
      });
      await chat.ctx.usage.flush(); // fails, logged; the row waits for the next write
    } finally {
      await chat.ctx.db.pool.query('ALTER TABLE usage_records_away RENAME TO usage_records');
    }
    chat.ctx.usage.record({
      userId: user.id,
      apiKeyId: null,
      model: 'llama3.2',
      promptTokens: 1,
      completionTokens: 1,
    });
    await chat.ctx.usage.flush();
    const { rows } = await chat.ctx.db.pool.query(
      `SELECT requests, prompt_tokens, completion_tokens FROM usage_records WHERE user_id = $1`,
      [user.id],
    );
    expect(rows).toEqual([{ requests: 2, prompt_tokens: 8, completion_tokens: 6 }]);
  });
});
