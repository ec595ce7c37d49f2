import { expectedChatReply, simulatedEmbedding } from '@corral/ollama-sim';
import OpenAI from 'openai';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createApiKey, useChatApiStack } from './helpers.js';

const stack = useChatApiStack({ users: ['user'] });
let apiKey: string;
let client: OpenAI;

beforeAll(async () => {
  apiKey = await createApiKey(stack.user);
  client = new OpenAI({ apiKey, baseURL: `${stack.chat.url}/v1`, maxRetries: 0 });
});

const question = [{ role: 'user' as const, content: 'What is a corral?' }];
const reference = expectedChatReply({ model: 'llama3.2', messages: question });

describe('/v1 with the openai SDK: happy path', () => {
  it('answers a non-streaming chat completion with usage', async () => {
    const completion = await client.chat.completions.create({ model: 'llama3.2', messages: question });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: reference.text });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBe(reference.evalCount);
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage?.total_tokens).toBe(
      completion.usage!.prompt_tokens + completion.usage!.completion_tokens,
    );
  });

  it('streams chat completion chunks ending with usage when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'llama3.2',
      messages: question,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let contentChunks = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      const delta = chunk.choices[0]?.delta.content;
      if (delta) {
        text += delta;
        contentChunks += 1;
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(reference.text);
    expect(contentChunks).toBe(reference.tokens.length);
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBe(reference.evalCount);
  });

  it('honours max_tokens with finish_reason length', async () => {
    const completion = await client.chat.completions.create({
      model: 'llama3.2',
      messages: question,
      max_tokens: 3,
    });
    expect(completion.usage?.completion_tokens).toBe(3);
    expect(completion.choices[0]?.finish_reason).toBe('length');
  });

  it('lists models, and an API key with an allowlist sees only its models', async () => {
    const all = await client.models.list();
    expect(all.data.map((m) => m.id).sort()).toEqual([
      'llama3.2:latest',
      'nomic-embed-text:latest',
      'qwen2.5:latest',
    ]);
    const limitedKey = await createApiKey(stack.user, ['qwen2.5']);
    const limited = new OpenAI({ apiKey: limitedKey, baseURL: `${stack.chat.url}/v1`, maxRetries: 0 });
    expect((await limited.models.list()).data.map((m) => m.id)).toEqual(['qwen2.5:latest']);
    await expect(
      limited.chat.completions.create({ model: 'llama3.2', messages: question }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('creates embeddings (float and the SDK default base64)', async () => {
    const res = await client.embeddings.create({ model: 'nomic-embed-text', input: ['alpha', 'beta'] });
    expect(res.data).toHaveLength(2);
    const expectedVector = simulatedEmbedding('nomic-embed-text', 'alpha', res.data[0]!.embedding.length);
    res.data[0]!.embedding.forEach((value, i) => expect(value).toBeCloseTo(expectedVector[i]!, 5));
    expect(res.usage.prompt_tokens).toBeGreaterThan(0);
    const floats = await client.embeddings.create({
      model: 'nomic-embed-text',
      input: 'alpha',
      encoding_format: 'float',
    });
    floats.data[0]!.embedding.forEach((value, i) => expect(value).toBeCloseTo(expectedVector[i]!, 5));
  });

  it('records usage per user and API key, visible in GET /api/usage', async () => {
    const res = await request(stack.chat.url).get('/api/usage').set(bearer(stack.user.token)).expect(200);
    const rows = res.body.items as Array<{ model: string; requests: number; completionTokens: number }>;
    const llama = rows.find((row) => row.model === 'llama3.2');
    expect(llama?.requests).toBeGreaterThanOrEqual(3);
    expect(llama?.completionTokens).toBeGreaterThanOrEqual(2 * reference.evalCount);
    const perKey = await stack.chat.ctx.db.prisma.usageRecord.findMany({
      where: { userId: stack.user.id, apiKeyId: { not: '' } },
    });
    expect(perKey.length).toBeGreaterThan(0);
  });

  it('accepts an access token as well as an API key', async () => {
    const viaJwt = new OpenAI({ apiKey: stack.user.token, baseURL: `${stack.chat.url}/v1`, maxRetries: 0 });
    expect((await viaJwt.models.list()).data.length).toBe(3);
  });
});

describe('/v1: error paths', () => {
  it('raises the SDK error classes from OpenAI-shaped error bodies', async () => {
    const missing = client.chat.completions.create({ model: 'no-such-model', messages: question });
    await expect(missing).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(missing).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
      type: 'invalid_request_error',
    });

    const bad = client.chat.completions.create({ model: 'llama3.2', messages: [] });
    await expect(bad).rejects.toBeInstanceOf(OpenAI.BadRequestError);

    stack.sim.setFailure({ mode: 'error-500', paths: ['/api/chat'], times: 1 });
    await expect(
      client.chat.completions.create({ model: 'llama3.2', messages: question }),
    ).rejects.toBeInstanceOf(OpenAI.InternalServerError);
  });

  it('answers raw errors as {"error":{"message","type","code"}}', async () => {
    const res = await request(stack.chat.url)
      .post('/v1/chat/completions')
      .set(bearer(apiKey))
      .send({ model: 'llama3.2' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'validation_failed' });
    expect(typeof res.body.error.message).toBe('string');
    const unknown = await request(stack.chat.url).get('/v1/nothing').set(bearer(apiKey));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('route_not_found');
  });
});

describe('/v1: security', () => {
  it('raises AuthenticationError for a missing, unknown or revoked key', async () => {
    const res = await request(stack.chat.url).get('/v1/models');
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'invalid_api_key' });
    const forged = new OpenAI({
      apiKey: 'sk-corral-not-a-real-key-000000000000000000',
      baseURL: `${stack.chat.url}/v1`,
      maxRetries: 0,
    });
    await expect(forged.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
