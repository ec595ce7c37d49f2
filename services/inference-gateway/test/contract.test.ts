import { backendPool, backendView, problemDetails, pullLine, pullSummary } from '@corral/contracts';
import { describe, expect, it } from 'vitest';
import { GATEWAY_ROUTES, contract } from './contract.js';
import { chatBody, ndjsonLines, postJson, usePoolPerTest } from './helpers.js';

const pool = usePoolPerTest();

describe('the gateway’s own views answer as @corral/contracts says', () => {
  it('the pool, a drain, a model pull, and errors in each wire format', async () => {
    const sims = await pool.startSims(2, { models: ['llama3.2'] });
    const gateway = await pool.startGateway(sims);

    const view = backendPool.parse(await (await fetch(`${gateway.url}/admin/backends`)).json());
    expect(view.backends.map((backend) => backend.state)).toEqual(['healthy', 'healthy']);

    const pulled = await postJson(`${gateway.url}/admin/models/pull`, { model: 'qwen2.5' });
    const lines = (await ndjsonLines(pulled)).map((line) => pullLine.parse(line));
    expect(pullSummary.parse(lines.at(-1))).toMatchObject({ status: 'success', model: 'qwen2.5' });

    const drained = await fetch(
      `${gateway.url}/admin/backends/${encodeURIComponent(view.backends[0]!.id)}/drain`,
      {
        method: 'POST',
      },
    );
    expect(drained.status).toBe(202);
    expect(backendView.parse(await drained.json())).toMatchObject({ state: 'draining' });

    const unknownDrain = await fetch(`${gateway.url}/admin/backends/nope/drain`, { method: 'POST' });
    expect(problemDetails.parse(await unknownDrain.json())).toMatchObject({ status: 404, code: 'not_found' });

    // Made here: problem fields plus the wire's own `error`; OpenAI's type for a missing model.
    const ollama = await postJson(`${gateway.url}/api/chat`, chatBody('hi', { model: 'mistral' }));
    expect(await ollama.json()).toMatchObject({ code: 'model_not_found', error: expect.any(String) });
    const openai = await postJson(`${gateway.url}/v1/chat/completions`, {
      model: 'mistral',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(openai.status).toBe(404);
    expect(await openai.json()).toMatchObject({
      code: 'model_not_found',
      error: { type: 'invalid_request_error', code: 'model_not_found', param: null },
    });
  });

  it('checked every answer above, on each route of the contract table with a view of its own', () => {
    const seen = new Set([...contract.checked.keys()].map((key) => key.split(' ').slice(0, 2).join(' ')));
    const owned = GATEWAY_ROUTES.filter((route) => route.body !== null || route.lines);
    expect(owned.map((route) => `${route.method} ${route.path}`).filter((route) => !seen.has(route))).toEqual(
      [],
    );
    expect(contract.violations).toEqual([]);
  });
});
