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
