import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedOpenAIChatReply, type OllamaSim } from '../src/index.js';
import { startQuietSim } from './helpers.js';

let sim: OllamaSim;
let openai: OpenAI;

beforeAll(async () => {
  sim = await startQuietSim();
  openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
});

const messages = [{ role: 'user' as const, content: 'Write a haiku' }];

describe('openai client: happy paths', () => {
  it('chat completion returns the deterministic reply with usage', async () => {
    const expected = expectedOpenAIChatReply({ model: 'llama3.2', messages });
    const completion = await openai.chat.completions.create({ model: 'llama3.2', messages });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe(expected.text);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBe(expected.evalCount);
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
  });

  it('streams chunks, a finish_reason, and a usage chunk when asked', async () => {
    const expected = expectedOpenAIChatReply({ model: 'llama3.2', messages, max_tokens: 6 });
    const stream = await openai.chat.completions.create({
      model: 'llama3.2',
      messages,
      max_tokens: 6,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishReasons: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? '';
        if (choice.finish_reason) finishReasons.push(choice.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(expected.text);
    expect(finishReasons).toEqual(['length']);
    expect(usage?.completion_tokens).toBe(6);
  });

  it('lists models in OpenAI shape', async () => {
    const page = await openai.models.list();
    const ids = page.data.map((model) => model.id);
    expect(ids).toEqual(['llama3.2:latest', 'llava:latest', 'qwen3:latest', 'nomic-embed-text:latest']);
    expect(page.data[0]).toMatchObject({ object: 'model', owned_by: 'library' });
  });

  it('embeddings decode (default base64) to unit vectors and match the float form', async () => {
    const base64 = await openai.embeddings.create({ model: 'nomic-embed-text', input: ['alpha', 'beta'] });
    expect(base64.data).toHaveLength(2);
    const vector = Array.from(base64.data[0]?.embedding ?? []);
    expect(vector).toHaveLength(768);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 4);

    const floats = await openai.embeddings.create({
      model: 'nomic-embed-text',
      input: 'alpha',
      encoding_format: 'float',
    });
    const floatVector = floats.data[0]?.embedding ?? [];
    expect(floatVector).toHaveLength(768);
    floatVector.forEach((value, i) => expect(value).toBeCloseTo(vector[i] ?? NaN, 6));
    expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
  });
});

describe('openai client: error paths', () => {
  it('an unknown model is a 404 in OpenAI error shape', async () => {
    const error = await openai.chat.completions.create({ model: 'ghost', messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).error).toEqual({
      message: 'model "ghost" not found, try pulling it first',
      type: 'not_found_error',
      param: null,
      code: null,
    });
  });

  it('a missing model field is a 400 invalid_request_error', async () => {
    const response = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ messages }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: 'model is required' },
    });
  });
});
