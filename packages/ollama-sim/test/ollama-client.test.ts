import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedChatReply, expectedGenerateReply, type OllamaSim } from '../src/index.js';
import { startQuietSim } from './helpers.js';

let sim: OllamaSim;
let ollama: Ollama;

beforeAll(async () => {
  sim = await startQuietSim();
  ollama = new Ollama({ host: sim.url });
});

afterAll(async () => {
  await sim.close();
});

const question = [{ role: 'user', content: 'Why is the sky blue?' }];

describe('ollama client: happy paths', () => {
  it('chat without streaming returns the deterministic reply and the final statistics', async () => {
    const expected = expectedChatReply({ model: 'llama3.2', messages: question });
    const response = await ollama.chat({ model: 'llama3.2', messages: question, stream: false });

    expect(response.message).toEqual({ role: 'assistant', content: expected.text });
    expect(response.model).toBe('llama3.2');
    expect(response.done).toBe(true);
    expect(response.done_reason).toBe('stop');
    expect(response.eval_count).toBe(24);
    expect(response.prompt_eval_count).toBeGreaterThan(0);
    for (const field of [
      'total_duration',
      'load_duration',
      'prompt_eval_duration',
      'eval_duration',
    ] as const) {
      expect(Number.isInteger(response[field])).toBe(true);
    }
    expect(response.total_duration).toBeGreaterThan(0);
  });

  it('chat streaming yields the reply token by token and a final done chunk', async () => {
    const expected = expectedChatReply({ model: 'llama3.2', messages: question });
    const stream = await ollama.chat({ model: 'llama3.2', messages: question, stream: true });
    const parts: string[] = [];
    let last: Awaited<ReturnType<typeof ollama.chat>> | undefined;
    for await (const chunk of stream) {
      if (!chunk.done) parts.push(chunk.message.content);
      last = chunk;
    }
    expect(parts).toEqual(expected.tokens);
    expect(parts.join('')).toBe(expected.text);
    expect(last?.done).toBe(true);
    expect(last?.done_reason).toBe('stop');
    expect(last?.eval_count).toBe(expected.tokens.length);
  });

  it('the same prompt gives the same text; another seed gives another text', async () => {
    const first = await ollama.chat({ model: 'llama3.2', messages: question, stream: false });
    const again = await ollama.chat({ model: 'llama3.2', messages: question, stream: false });
    const seeded = await ollama.chat({ model: 'llama3.2', messages: question, options: { seed: 7 } });
    expect(again.message.content).toBe(first.message.content);
    expect(seeded.message.content).not.toBe(first.message.content);
    expect(seeded.message.content).toBe(
      expectedChatReply({ model: 'llama3.2', messages: question, options: { seed: 7 } }).text,
    );
  });

  it('num_predict cuts the reply with done_reason "length"', async () => {
    const response = await ollama.chat({
      model: 'llama3.2',
      messages: question,
      options: { num_predict: 5 },
    });
    expect(response.eval_count).toBe(5);
    expect(response.done_reason).toBe('length');
    expect(response.message.content).toBe(
      expectedChatReply({ model: 'llama3.2', messages: question, options: { num_predict: 5 } }).text,
    );
  });

  it('format "json" produces a JSON document', async () => {
    const response = await ollama.chat({ model: 'llama3.2', messages: question, format: 'json' });
    expect(JSON.parse(response.message.content)).toMatchObject({ simulated: true });
  });

  it('generate streams the response and returns a context', async () => {
    const expected = expectedGenerateReply({ model: 'llama3.2', prompt: 'Tell me a story' });
    const stream = await ollama.generate({ model: 'llama3.2', prompt: 'Tell me a story', stream: true });
    let text = '';
    let context: number[] | undefined;
    for await (const chunk of stream) {
      text += chunk.response;
      if (chunk.done) context = chunk.context;
    }
    expect(text).toBe(expected.text);
    expect(context?.every((id) => Number.isInteger(id))).toBe(true);
    expect(context?.length).toBeGreaterThan(0);

    const whole = await ollama.generate({ model: 'llama3.2', prompt: 'Tell me a story', stream: false });
    expect(whole.response).toBe(expected.text);
    expect(whole.done_reason).toBe('stop');
  });

  it('list shows the models, marked as the "sim" family', async () => {
    const { models } = await ollama.list();
    expect(models.map((m) => m.name)).toEqual([
      'llama3.2:latest',
      'llava:latest',
      'qwen3:latest',
      'nomic-embed-text:latest',
    ]);
    expect(models[0]?.details.family).toBe('sim');
    expect(models[0]?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(models[0]?.size).toBeGreaterThan(0);
  });

  it('embed returns deterministic unit-length vectors of the model dimension', async () => {
    const response = await ollama.embed({ model: 'nomic-embed-text', input: ['first text', 'second text'] });
    expect(response.embeddings).toHaveLength(2);
    const [first, second] = response.embeddings as [number[], number[]];
    expect(first).toHaveLength(768);
    expect(Math.hypot(...first)).toBeCloseTo(1, 5);
    expect(first).not.toEqual(second);

    const again = await ollama.embed({ model: 'nomic-embed-text', input: 'first text' });
    expect(again.embeddings[0]).toEqual(first);
    expect(again.prompt_eval_count).toBeGreaterThan(0);
  });

  it('legacy embeddings answers with a single vector', async () => {
    const response = await ollama.embeddings({ model: 'nomic-embed-text', prompt: 'first text' });
    expect(response.embedding).toHaveLength(768);
  });

  it('show describes the model as simulated', async () => {
    const response = await ollama.show({ model: 'llama3.2' });
    expect(response.details.family).toBe('sim');
    expect(response.modelfile).toContain('simulated');
  });

  it('pull streams the real progress statuses and the model appears in list', async () => {
    const statuses: string[] = [];
    const stream = await ollama.pull({ model: 'qwen3:0.6b', stream: true });
    for await (const progress of stream) {
      statuses.push(progress.status);
      if (progress.status.startsWith('pulling ') && progress.status !== 'pulling manifest') {
        expect(progress.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(progress.total).toBeGreaterThan(0);
      }
    }
    expect(statuses[0]).toBe('pulling manifest');
    expect(statuses.slice(-3)).toEqual(['verifying sha256 digest', 'writing manifest', 'success']);
    expect(statuses.some((s) => /^pulling [0-9a-f]{12}$/.test(s))).toBe(true);

    const { models } = await ollama.list();
    expect(models.map((m) => m.name)).toContain('qwen3:0.6b');
    const reply = await ollama.chat({ model: 'qwen3:0.6b', messages: question });
    expect(reply.done).toBe(true);
  });

  it('delete removes a pulled model: 200 with no body, and it leaves the list', async () => {
    await ollama.pull({ model: 'smollm2:135m' });
    expect(await ollama.delete({ model: 'smollm2:135m' })).toEqual({ status: 'success' });
    const { models } = await ollama.list();
    expect(models.map((m) => m.name)).not.toContain('smollm2:135m');
    // As Ollama: the raw answer is an empty 200.
    await ollama.pull({ model: 'smollm2:135m' });
    const raw = await fetch(`${sim.url}/api/delete`, { method: 'DELETE', body: '{"model":"smollm2:135m"}' });
    expect(raw.status).toBe(200);
    expect(await raw.text()).toBe('');
  });

  it('ps lists a model after it was used', async () => {
    await ollama.chat({ model: 'llama3.2', messages: question });
    const { models } = await ollama.ps();
    const loaded = models.find((m) => m.name === 'llama3.2:latest');
    expect(loaded).toBeDefined();
    expect(new Date(loaded?.expires_at ?? 0).getTime()).toBeGreaterThan(Date.now());
  });
});

describe('ollama client: error paths', () => {
  it("an unknown model is a 404 with Ollama's message", async () => {
    await expect(ollama.chat({ model: 'no-such-model', messages: question })).rejects.toMatchObject({
      status_code: 404,
      error: 'model "no-such-model" not found, try pulling it first',
    });
  });

  it("deleting a model it does not hold is a 404 with Ollama's message; a bad name a 400", async () => {
    await expect(ollama.delete({ model: 'no-such-model' })).rejects.toMatchObject({
      status_code: 404,
      error: "model 'no-such-model' not found",
    });
    await expect(ollama.delete({ model: 'Not A Model!!' })).rejects.toMatchObject({ status_code: 400 });
    await expect(ollama.pull({ model: 'definitely not a model!!' })).rejects.toMatchObject({
      status_code: 400,
      error: 'invalid model name',
    });
  });

  it('chatting with an embedding model is refused', async () => {
    await expect(ollama.chat({ model: 'nomic-embed-text', messages: question })).rejects.toMatchObject({
      status_code: 400,
    });
  });
});
