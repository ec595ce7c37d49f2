import { type OllamaSim, expectedChatReply, simulatedEmbedding } from '@corral/ollama-sim';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestGateway, startGateway, startSims } from './helpers.js';

let sims: OllamaSim[];
let gateway: TestGateway;

beforeAll(async () => {
  sims = await startSims(2, { models: ['llama3.2', 'nomic-embed-text'] });
  (sims[1] as OllamaSim).addModel('qwen2.5');
  gateway = await startGateway(sims);
});

afterAll(async () => {
  await gateway.close();
  await Promise.all(sims.map((sim) => sim.close()));
});

describe('the ollama npm client, pointed at the gateway, works unchanged', () => {
  const messages = [{ role: 'user', content: 'Why is the sky blue?' }];
  const expected = expectedChatReply({ model: 'llama3.2', messages });

  it('chat, streaming: the pieces add up to the backend reply, then a done chunk', async () => {
    const ollama = new Ollama({ host: gateway.url });
    const stream = await ollama.chat({ model: 'llama3.2', messages, stream: true });
    let text = '';
    let last: { done: boolean; eval_count?: number } | undefined;
    for await (const part of stream) {
      text += part.message.content;
      last = part;
    }
    expect(text).toBe(expected.text);
    expect(last).toMatchObject({ done: true, eval_count: expected.evalCount });
  });

  it('chat, not streaming', async () => {
    const ollama = new Ollama({ host: gateway.url });
    const reply = await ollama.chat({ model: 'llama3.2', messages, stream: false });
    expect(reply.message.content).toBe(expected.text);
    expect(reply.eval_count).toBe(expected.evalCount);
  });

  it('list: the union of both backends, each model once', async () => {
    const ollama = new Ollama({ host: gateway.url });
    const { models } = await ollama.list();
    expect(models.map((m) => m.name).sort()).toEqual([
      'llama3.2:latest',
      'nomic-embed-text:latest',
      'qwen2.5:latest',
    ]);
  });

  it('embed', async () => {
    const ollama = new Ollama({ host: gateway.url });
    const result = await ollama.embed({ model: 'nomic-embed-text', input: ['hello', 'world'] });
    expect(result.embeddings).toHaveLength(2);
    expect(result.embeddings[0]).toEqual(simulatedEmbedding('nomic-embed-text', 'hello', 768));
  });

  it('show', async () => {
    const ollama = new Ollama({ host: gateway.url });
    const shown = await ollama.show({ model: 'qwen2.5' });
    expect(shown.modelfile).toContain('qwen2.5:latest');
    expect(shown.capabilities).toEqual(['completion', 'tools']);
  });

  it('an unknown model is the error Ollama itself gives', async () => {
    const ollama = new Ollama({ host: gateway.url });
    await expect(ollama.chat({ model: 'nope', messages })).rejects.toMatchObject({
      status_code: 404,
      error: 'model "nope" not found, try pulling it first',
    });
  });
});

describe('the openai npm client, pointed at <gateway>/v1, works unchanged', () => {
  const messages = [{ role: 'user' as const, content: 'Tell me a story' }];
  const expected = expectedChatReply({ model: 'llama3.2', messages });

  it('chat completions, streaming', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused' });
    const stream = await openai.chat.completions.create({ model: 'llama3.2', messages, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(expected.text);
  });

  it('chat completions, not streaming', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused' });
    const completion = await openai.chat.completions.create({ model: 'llama3.2', messages });
    expect(completion.choices[0]?.message.content).toBe(expected.text);
    expect(completion.usage?.completion_tokens).toBe(expected.evalCount);
  });

  it('models: the union, as OpenAI lists them', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused' });
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids.sort()).toEqual(['llama3.2:latest', 'nomic-embed-text:latest', 'qwen2.5:latest']);
  });

  it('an unknown model is a NotFoundError with an OpenAI error body', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const failure = await openai.chat.completions.create({ model: 'nope', messages }).catch((e) => e);
    expect(failure).toBeInstanceOf(OpenAI.NotFoundError);
    // As OpenAI answers a missing model: 404, type invalid_request_error, code model_not_found.
    expect(failure.error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found' });
  });
});
