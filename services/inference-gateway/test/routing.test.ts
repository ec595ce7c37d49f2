import type { OllamaSim } from '@corral/ollama-sim';
import { describe, expect, it } from 'vitest';
import { chatBody, postJson, usePoolPerTest } from './helpers.js';

const pool = usePoolPerTest();

const chats = (sim: OllamaSim) => sim.stats().requests['POST /api/chat'] ?? 0;

describe('round-robin', () => {
  it('spreads N requests evenly over three backends holding the model', async () => {
    const sims = await pool.startSims(3, { models: ['llama3.2'] });
    const gateway = await pool.startGateway(sims, { ROUTING_STRATEGY: 'round-robin' });
    for (let i = 0; i < 12; i++) {
      const res = await postJson(`${gateway.url}/api/chat`, chatBody(`question ${i}`, { stream: false }));
      expect(res.status).toBe(200);
    }
    expect(sims.map(chats)).toEqual([4, 4, 4]);
  });

  it('sends a model held by one backend only there', async () => {
    const sims = await pool.startSims(2, { models: ['llama3.2'] });
    (sims[1] as OllamaSim).addModel('qwen2.5');
    const gateway = await pool.startGateway(sims);
    for (let i = 0; i < 4; i++) {
      const res = await postJson(
        `${gateway.url}/api/chat`,
        chatBody(`q${i}`, { model: 'qwen2.5', stream: false }),
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('x-corral-backend')).toBe((sims[1] as OllamaSim).url);
    }
    expect(sims.map(chats)).toEqual([0, 4]);
  });
});

describe('least-outstanding', () => {
  it('sends a new request to the backend with fewer running', async () => {
    const sims = await pool.startSims(2, { models: ['llama3.2'], tokensPerSecond: 5, ttftMs: 0 });
    const gateway = await pool.startGateway(sims, { ROUTING_STRATEGY: 'least-outstanding' });
    const controller = new AbortController();
    const long = await postJson(`${gateway.url}/api/chat`, chatBody('long one'), controller.signal);
    const busy = long.headers.get('x-corral-backend');
    for (let i = 0; i < 3; i++) {
      const res = await postJson(`${gateway.url}/api/generate`, {
        model: 'llama3.2',
        prompt: `p${i}`,
        stream: false,
        options: { num_predict: 1 },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-corral-backend')).not.toBe(busy);
    }
    controller.abort();
  });
});

describe('models nobody holds', () => {
  it('404 in Ollama’s shape on /api, listing the models that exist', async () => {
    const sims = await pool.startSims(1, { models: ['llama3.2'] });
    const gateway = await pool.startGateway(sims);
    const res = await postJson(`${gateway.url}/api/generate`, { model: 'mistral', prompt: 'hi' });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({
      error: 'model "mistral" not found, try pulling it first',
      code: 'model_not_found',
      type: 'urn:corral:error:model_not_found',
      status: 404,
      availableModels: ['llama3.2:latest'],
    });
    expect(chats(sims[0] as OllamaSim)).toBe(0);
  });

  it('404 in OpenAI’s shape on /v1', async () => {
    const sims = await pool.startSims(1, { models: ['llama3.2'] });
    const gateway = await pool.startGateway(sims);
    const res = await postJson(`${gateway.url}/v1/chat/completions`, {
      model: 'mistral',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({
      message: 'model "mistral" not found, try pulling it first',
      type: 'invalid_request_error',
      code: 'model_not_found',
    });
  });

  it('400 for a body without a model or that is not JSON', async () => {
    const sims = await pool.startSims(1, { models: ['llama3.2'] });
    const gateway = await pool.startGateway(sims);
    const noModel = await postJson(`${gateway.url}/api/chat`, { messages: [] });
    expect(noModel.status).toBe(400);
    expect(await noModel.json()).toMatchObject({ error: 'model is required' });
    const broken = await fetch(`${gateway.url}/api/chat`, { method: 'POST', body: '{"model": ' });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { code: string }).code).toBe('malformed_json');
  });
});
