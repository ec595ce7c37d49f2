// The `ollama` npm client straight against inference-gateway (how an operator or an internal
// service talks to the pool), with the gateway's service token when it requires one.
import { Ollama } from 'ollama';
import { describe, expect, it } from 'vitest';
import { corral } from './support/stack.js';

function client(): Ollama {
  const { gatewayUrl, gatewayToken } = corral();
  return new Ollama({
    host: gatewayUrl,
    ...(gatewayToken ? { headers: { Authorization: `Bearer ${gatewayToken}` } } : {}),
  });
}

describe('the ollama client against the gateway', () => {
  it('lists the models of the pool', async () => {
    const { models } = await client().list();
    const names = models.map((model) => model.name.replace(/:latest$/, ''));
    expect(names).toEqual(expect.arrayContaining(['llama3.2', 'nomic-embed-text']));
  });

  it('streams a chat reply part by part, the last one done with counts', async () => {
    const stream = await client().chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'Describe a corral in one sentence.' }],
      stream: true,
      options: { num_predict: 10 },
    });
    const parts: string[] = [];
    let last: { done: boolean; eval_count?: number; done_reason?: string } | undefined;
    for await (const part of stream) {
      if (part.message.content) parts.push(part.message.content);
      last = part;
    }
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join('').trim()).not.toBe('');
    expect(last?.done).toBe(true);
    expect(last?.eval_count).toBeGreaterThan(0);
  });

  it('embeds a batch of inputs', async () => {
    const result = await client().embed({ model: 'nomic-embed-text', input: ['corral', 'paddock'] });
    expect(result.embeddings).toHaveLength(2);
    expect(result.embeddings[0]!.length).toBeGreaterThan(0);
    expect(result.embeddings[0]).not.toEqual(result.embeddings[1]);
  });
});

// Native pass-through: what an Ollama client sends reaches the model server unchanged, and its
// answer comes back unchanged — the same request straight to the backend answers the same.
describe('the ollama client’s features through the gateway, as Ollama answers them', () => {
  const backend = () => new Ollama({ host: corral().inference.urls[0]! });
  const PNG =
    'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==';
  const weather = {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather in a city',
      parameters: {
        type: 'object',
        required: ['city', 'unit'],
        properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
      },
    },
  };
  const both = async (request: Parameters<Ollama['chat']>[0] & { stream?: false }) => {
    const [viaGateway, direct] = await Promise.all([
      client().chat({ ...request, stream: false }),
      backend().chat({ ...request, stream: false }),
    ]);
    expect(viaGateway.message).toEqual(direct.message);
    expect(viaGateway.done_reason).toBe(direct.done_reason);
    return viaGateway;
  };

  it('tools: a tool call whose arguments follow the function’s schema', async () => {
    const reply = await both({
      model: 'qwen3',
      messages: [{ role: 'user', content: 'Weather in Lyon?' }],
      tools: [weather],
      think: false,
      options: { seed: 7 },
    });
    const call = reply.message.tool_calls?.[0];
    expect(call?.function.name).toBe('get_weather');
    expect(typeof call?.function.arguments.city).toBe('string');
    expect(['c', 'f']).toContain(call?.function.arguments.unit);
  });

  it('images: the vision model sees the image', async () => {
    const reply = await both({
      model: 'llava',
      messages: [{ role: 'user', content: 'What is this?', images: [PNG] }],
      options: { seed: 7, num_predict: 16 },
    });
    expect(reply.message.content).toMatch(/^I see 1 image\./);
  });

  it('format: a JSON schema gives JSON valid against it', async () => {
    const reply = await both({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'A city and its population' }],
      format: {
        type: 'object',
        required: ['city', 'population', 'tags'],
        properties: {
          city: { type: 'string' },
          population: { type: 'integer' },
          tags: { type: 'array', items: { type: 'string' } },
        },
      },
      options: { seed: 7 },
    });
    const value = JSON.parse(reply.message.content) as { city: unknown; population: unknown; tags: unknown };
    expect(typeof value.city).toBe('string');
    expect(Number.isInteger(value.population)).toBe(true);
    expect(Array.isArray(value.tags)).toBe(true);
  });

  it('think: the reasoning streams in `thinking` before the answer in `content`', async () => {
    await both({
      model: 'qwen3',
      messages: [{ role: 'user', content: 'Why?' }],
      think: true,
      options: { seed: 7, num_predict: 16 },
    });
    const stream = await client().chat({
      model: 'qwen3',
      messages: [{ role: 'user', content: 'Why?' }],
      think: true,
      stream: true,
    });
    const kinds: string[] = [];
    for await (const part of stream) {
      if (part.message.thinking) kinds.push('thinking');
      if (part.message.content) kinds.push('content');
    }
    expect(kinds[0]).toBe('thinking');
    expect(kinds).toContain('content');
    expect(kinds.lastIndexOf('thinking')).toBeLessThan(kinds.indexOf('content'));
  });
});
