import { Ollama, type Tool } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODELS, expectedChatReply, expectedGenerateReply, type OllamaSim } from '../src/index.js';
import { NOT_AN_IMAGE, PNG, clockTool, schemaValidator, weatherTool } from './fixtures.js';
import { postJson, startQuietSim } from './helpers.js';

let sim: OllamaSim;
let ollama: Ollama;

beforeAll(async () => {
  sim = await startQuietSim();
  ollama = new Ollama({ host: sim.url });
});

afterAll(async () => {
  await sim.close();
});

const weather = weatherTool as unknown as Tool;
const clock = clockTool as unknown as Tool;

describe('capabilities in /api/show', () => {
  it('reports what Ollama reports for each default model', async () => {
    const expected: Record<string, string[]> = {
      'llama3.2': ['completion', 'tools'],
      llava: ['completion', 'vision'],
      qwen3: ['completion', 'tools', 'thinking'],
      'nomic-embed-text': ['embedding'],
    };
    expect(Object.keys(expected)).toEqual(DEFAULT_MODELS);
    for (const [model, capabilities] of Object.entries(expected)) {
      expect((await ollama.show({ model })).capabilities).toEqual(capabilities);
    }
  });
});

describe('tools', () => {
  const ask = [{ role: 'user', content: 'What is the weather in Paris?' }];

  it('a user turn with tools is answered with a call whose arguments fit the schema', async () => {
    const response = await ollama.chat({ model: 'llama3.2', messages: ask, tools: [weather], stream: false });
    expect(response.message.content).toBe('');
    const calls = response.message.tool_calls ?? [];
    expect(calls).toHaveLength(1);
    expect(calls[0]?.function.name).toBe('get_weather');
    const validate = schemaValidator(weatherTool.function.parameters);
    expect(validate(calls[0]?.function.arguments), JSON.stringify(validate.errors)).toBe(true);
    expect((calls[0] as { id?: string }).id).toMatch(/^call_[a-z0-9]{8}$/);
    expect(response.message.tool_calls).toEqual(
      expectedChatReply({ model: 'llama3.2', messages: ask, tools: [weather] }).toolCalls,
    );
  });

  it('tools named in the message are called in parallel with their own indexes, also streaming', async () => {
    const messages = [{ role: 'user', content: 'Use get_weather and get_time for Oslo' }];
    const stream = await ollama.chat({
      model: 'qwen3',
      messages,
      tools: [weather, clock],
      think: false,
      stream: true,
    });
    const calls = [];
    for await (const chunk of stream) calls.push(...(chunk.message.tool_calls ?? []));
    expect(calls.map((c) => [c.function.name, (c.function as { index?: number }).index])).toEqual([
      ['get_weather', 0],
      ['get_time', 1],
    ]);
    expect(schemaValidator(clockTool.function.parameters)(calls[1]?.function.arguments)).toBe(true);
  });

  it('after a tool message the model answers in text', async () => {
    const first = await ollama.chat({ model: 'llama3.2', messages: ask, tools: [weather], stream: false });
    const messages = [
      ...ask,
      first.message,
      { role: 'tool', content: '{"temperature": 21}', tool_name: 'get_weather' },
    ];
    const answer = await ollama.chat({ model: 'llama3.2', messages, tools: [weather], stream: false });
    expect(answer.message.tool_calls).toBeUndefined();
    expect(answer.message.content).toBe(
      expectedChatReply({ model: 'llama3.2', messages, tools: [weather] }).text,
    );
    expect(answer.message.content).not.toBe(expectedChatReply({ model: 'llama3.2', messages: ask }).text);
  });

  it("a model without tools gives Ollama's 400, naming the model in full", async () => {
    const response = await postJson(`${sim.url}/api/chat`, {
      model: 'llava',
      messages: ask,
      tools: [weather],
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'registry.ollama.ai/library/llava:latest does not support tools',
    });
  });
});

describe('format', () => {
  const schema = {
    type: 'object',
    required: ['name', 'tags', 'address', 'rating', 'kind'],
    properties: {
      name: { type: 'string', minLength: 3 },
      tags: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 4 },
      address: {
        type: 'object',
        required: ['city', 'zip'],
        properties: { city: { type: 'string' }, zip: { type: 'string', maxLength: 5 } },
      },
      rating: { type: 'number', minimum: 0, maximum: 5 },
      kind: { enum: ['cafe', 'bar', 'restaurant'] },
      open: { type: 'boolean' },
    },
    additionalProperties: false,
  };

  it('a JSON schema gives JSON valid against it, streamed or not', async () => {
    const messages = [{ role: 'user', content: 'Describe a place' }];
    const response = await ollama.chat({ model: 'llama3.2', messages, format: schema, stream: false });
    const validate = schemaValidator(schema);
    expect(validate(JSON.parse(response.message.content)), JSON.stringify(validate.errors)).toBe(true);

    let streamed = '';
    const stream = await ollama.chat({ model: 'llama3.2', messages, format: schema, stream: true });
    for await (const chunk of stream) streamed += chunk.message.content;
    expect(streamed).toBe(response.message.content);
  });

  it('format "json" gives a JSON object; generate takes a schema too', async () => {
    const response = await ollama.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'json please' }],
      format: 'json',
    });
    const parsed: unknown = JSON.parse(response.message.content);
    expect(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)).toBe(true);

    const generated = await ollama.generate({ model: 'llama3.2', prompt: 'a place', format: schema });
    expect(schemaValidator(schema)(JSON.parse(generated.response ?? ''))).toBe(true);
    expect(generated.response).toBe(
      expectedGenerateReply({ model: 'llama3.2', prompt: 'a place', format: schema }).text,
    );
  });
});

describe('images', () => {
  it('a vision model sees the images it was sent (chat and generate)', async () => {
    const response = await ollama.chat({
      model: 'llava',
      messages: [{ role: 'user', content: 'What is this?', images: [PNG, PNG] }],
    });
    expect(response.message.content.startsWith('I see 2 images.')).toBe(true);

    const generated = await ollama.generate({ model: 'llava', prompt: 'And this?', images: [PNG] });
    expect(generated.response?.startsWith('I see 1 image.')).toBe(true);
  });

  it('bad base64 is the 400 Go gives while reading the body, on any model', async () => {
    for (const model of ['llava', 'llama3.2']) {
      const response = await postJson(`${sim.url}/api/chat`, {
        model,
        messages: [{ role: 'user', content: 'x', images: ['aGVsbG8'] }],
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'illegal base64 data at input byte 4' });
    }
    await expect(
      ollama.generate({ model: 'llava', prompt: 'x', images: ['not base64!'] }),
    ).rejects.toMatchObject({ status_code: 400, error: 'illegal base64 data at input byte 3' });
  });

  it("bytes that are not an image fail in the vision model's runner: 500, or an error line when streaming", async () => {
    const body = { model: 'llava', messages: [{ role: 'user', content: 'x', images: [NOT_AN_IMAGE] }] };
    const error =
      'Failed to create new sequence: failed to process inputs: unable to tokenize mtmd embedding from image\n';
    const plain = await postJson(`${sim.url}/api/chat`, { ...body, stream: false });
    expect(plain.status).toBe(500);
    expect(await plain.json()).toEqual({ error });

    const streamed = await postJson(`${sim.url}/api/chat`, body);
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toBe(`${JSON.stringify({ error })}\n`);
    await expect(ollama.chat({ ...body, stream: false })).rejects.toMatchObject({ status_code: 500, error });
  });

  it("a model without vision ignores images, as Ollama's text runners do", async () => {
    const response = await ollama.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'What is this?', images: [PNG] }],
    });
    const plain = expectedChatReply({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'What is this?' }],
    });
    expect(response.message.content).toBe(plain.text);
  });
});

describe('think', () => {
  const messages = [{ role: 'user', content: 'Why is the sky blue?' }];

  it('a thinking model streams its thinking before any content', async () => {
    const kinds: string[] = [];
    let thinking = '';
    let content = '';
    for await (const chunk of await ollama.chat({ model: 'qwen3', messages, think: true, stream: true })) {
      if (chunk.message.thinking) kinds.push('thinking');
      if (chunk.message.content) kinds.push('content');
      thinking += chunk.message.thinking ?? '';
      content += chunk.message.content;
    }
    expect(kinds[0]).toBe('thinking');
    expect(kinds.indexOf('content')).toBeGreaterThan(kinds.lastIndexOf('thinking'));
    const expected = expectedChatReply({ model: 'qwen3', messages, think: true });
    expect(thinking).toBe(expected.thinking.join(''));
    expect(content).toBe(expected.text);
  });

  it('non-streaming returns message.thinking; on by default for a thinking model, false turns it off', async () => {
    const byDefault = await ollama.chat({ model: 'qwen3', messages, stream: false });
    expect(byDefault.message.thinking).toBe(
      expectedChatReply({ model: 'qwen3', messages }).thinking.join(''),
    );
    expect(byDefault.message.thinking?.length).toBeGreaterThan(0);
    const off = await ollama.chat({ model: 'qwen3', messages, think: false, stream: false });
    expect(off.message.thinking).toBeUndefined();
    const generated = await ollama.generate({ model: 'qwen3', prompt: 'hm', think: true });
    expect(generated.thinking?.length).toBeGreaterThan(0);
  });

  it("asking a model without thinking to think is Ollama's 400; so is a think value Ollama does not know", async () => {
    const response = await postJson(`${sim.url}/api/chat`, { model: 'llama3.2', messages, think: 'low' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: '"llama3.2" does not support thinking' });
    // think: false on such a model is fine.
    expect(
      (await postJson(`${sim.url}/api/chat`, { model: 'llama3.2', messages, think: false })).status,
    ).toBe(200);

    const odd = await postJson(`${sim.url}/api/chat`, { model: 'qwen3', messages, think: 'max' });
    expect(odd.status).toBe(400);
    expect(await odd.json()).toEqual({
      error: 'invalid think value: "max" (must be "high", "medium", "low", true, or false)',
    });
  });
});
