// The `openai` npm SDK against Corral's OpenAI-compatible API (web origin → chat-api → gateway →
// ollama-sim), with an API key a user made through auth's HTTP API.
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { activeUser, createApiKey } from './support/accounts.js';
import { corral } from './support/stack.js';

const CHAT_MODEL = 'llama3.2';
const EMBED_MODEL = 'nomic-embed-text';
let client: OpenAI;

beforeAll(async () => {
  const { session } = await activeUser('openai-sdk');
  const apiKey = await createApiKey(session, 'openai sdk e2e');
  expect(apiKey).toMatch(/^sk-corral-/);
  client = new OpenAI({ apiKey, baseURL: `${corral().baseUrl}/v1`, maxRetries: 0 });
});

describe('models', () => {
  it('lists the chat and embedding models the pool holds', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids.map((id) => id.replace(/:latest$/, ''))).toEqual(
      expect.arrayContaining([CHAT_MODEL, EMBED_MODEL]),
    );
  });
});

describe('chat completions', () => {
  const messages = [{ role: 'user' as const, content: 'Name three things you find in a corral.' }];

  it('answers a non-streamed request with text, a finish reason and token usage', async () => {
    const completion = await client.chat.completions.create({ model: CHAT_MODEL, messages, max_tokens: 12 });
    expect(completion.object).toBe('chat.completion');
    const choice = completion.choices[0];
    expect(choice?.message.role).toBe('assistant');
    expect(choice?.message.content?.trim()).not.toBe('');
    expect(['stop', 'length']).toContain(choice?.finish_reason);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('streams the same reply chunk by chunk, ending with a finish reason', async () => {
    const whole = await client.chat.completions.create({ model: CHAT_MODEL, messages, max_tokens: 12 });
    const stream = await client.chat.completions.create({
      model: CHAT_MODEL,
      messages,
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      const delta = chunk.choices[0]?.delta.content;
      if (delta) pieces.push(delta);
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(pieces.length).toBeGreaterThan(1);
    // ollama-sim answers deterministically, so streamed and whole replies must agree.
    expect(pieces.join('')).toBe(whole.choices[0]?.message.content);
    expect(['stop', 'length']).toContain(finish);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });
});

describe('embeddings', () => {
  it('returns one unit vector per input, in order', async () => {
    const result = await client.embeddings.create({
      model: EMBED_MODEL,
      input: ['a corral for horses', 'a pen for sheep'],
    });
    expect(result.data.map((item) => item.index)).toEqual([0, 1]);
    const [first, second] = result.data.map((item) => item.embedding);
    expect(first!.length).toBeGreaterThan(0);
    expect(second!.length).toBe(first!.length);
    expect(first).not.toEqual(second);
    const norm = Math.hypot(...first!);
    expect(norm).toBeCloseTo(1, 3);
  });
});

describe('errors arrive as the SDK’s own exception classes', () => {
  it('an unknown model is NotFoundError (404)', async () => {
    const error = await client.chat.completions
      .create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).status).toBe(404);
    expect((error as Error).message).toMatch(/no-such-model/);
  });

  it('a bad key is AuthenticationError (401)', async () => {
    const stranger = new OpenAI({
      apiKey: 'sk-corral-not-a-real-key-0000000000000000',
      baseURL: `${corral().baseUrl}/v1`,
      maxRetries: 0,
    });
    const error = await stranger.models.list().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
  });
});
