import { pullSummary } from '@corral/contracts';
import type { OllamaSim } from '@corral/ollama-sim';
import { describe, expect, it } from 'vitest';
import {
  type TestGateway,
  usePoolPerTest,
  backendState,
  chatBody,
  ndjsonLines,
  postJson,
} from './helpers.js';

const pool = usePoolPerTest();

const pull = (gw: TestGateway, body: unknown) => postJson(`${gw.url}/admin/models/pull`, body);

describe('POST /admin/models/pull', () => {
  it('pulls onto every backend, streaming progress tagged by backend, then a summary; the model is routable at once', async () => {
    const sims = await pool.startSims(2, { models: ['llama3.2'] });
    const gateway = await pool.startGateway(sims, { ROUTING_STRATEGY: 'round-robin' });
    const gw = gateway;
    const before = await postJson(`${gw.url}/api/chat`, chatBody('hi', { model: 'qwen2.5' }));
    expect(before.status).toBe(404);

    const res = await pull(gw, { model: 'qwen2.5' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = await ndjsonLines(res);
    const summary = pullSummary.parse(lines.at(-1));
    for (const sim of sims) {
      const own = lines.slice(0, -1).filter((line) => line.backend === sim.url);
      expect(own[0]).toMatchObject({ status: 'pulling manifest' });
      expect(own.some((line) => typeof line.completed === 'number')).toBe(true);
      expect(own.at(-1)).toMatchObject({ status: 'success' });
    }
    expect(summary).toEqual({
      status: 'success',
      model: 'qwen2.5',
      done: true,
      skipped: [],
      backends: expect.arrayContaining(sims.map((sim) => ({ backend: sim.url, status: 'success' }))),
    });

    // The inventory was read again before the summary: no poll interval to wait for.
    const tags = (await (await fetch(`${gw.url}/api/tags`)).json()) as { models: Array<{ name: string }> };
    expect(tags.models.map((m) => m.name)).toContain('qwen2.5:latest');
    const served = new Set<string | null>();
    for (let i = 0; i < 4; i++) {
      const chat = await postJson(
        `${gw.url}/api/chat`,
        chatBody(`q${i}`, { model: 'qwen2.5', stream: false }),
      );
      expect(chat.status).toBe(200);
      served.add(chat.headers.get('x-corral-backend'));
    }
    expect(served).toEqual(new Set(sims.map((sim) => sim.url)));
  });

  it('one backend failing makes the summary "partial", naming it and why', async () => {
    const sims = await pool.startSims(2, { models: ['llama3.2'] });
    const gateway = await pool.startGateway(sims, { ROUTING_STRATEGY: 'round-robin' });
    const [good, bad] = sims as [OllamaSim, OllamaSim];
    bad.setFailure({ mode: 'error-500', message: 'disk full', paths: ['/api/pull'] });
    const summary = (await ndjsonLines(await pull(gateway, { model: 'mistral' }))).at(-1);
    expect(summary).toMatchObject({ status: 'partial', done: true });
    const results = pullSummary.parse(summary).backends;
    expect(results).toContainEqual({ backend: good.url, status: 'success' });
    expect(results).toContainEqual({ backend: bad.url, status: 'failed', error: 'disk full' });
    // A failed pull is the backend's answer, not a sign it is down.
    expect(await backendState(gateway, bad.url)).toBe('healthy');
  });

  it('skips backends that are not healthy, and says so', async () => {
    const sims = await pool.startSims(2, { models: ['llama3.2'] });
    const gateway = await pool.startGateway(sims, { EJECT_BASE_MS: '60000', EJECT_MAX_MS: '60000' });
    const gw = gateway;
    const [up, down] = sims as [OllamaSim, OllamaSim];
    down.setFailure({ mode: 'refuse' });
    await expect.poll(() => backendState(gw, down.url)).toBe('ejected');
    const lines = await ndjsonLines(await pull(gw, { model: 'phi3' }));
    expect(lines.filter((line) => line.backend === down.url)).toEqual([]);
    expect(lines.at(-1)).toMatchObject({
      status: 'success',
      backends: [{ backend: up.url, status: 'success' }],
      skipped: [down.url],
    });
  });

  it('400 problem+json for a body without a model, or that is not JSON', async () => {
    const sims = await pool.startSims(1);
    const gateway = await pool.startGateway(sims, { ROUTING_STRATEGY: 'round-robin' });
    const missing = await pull(gateway, {});
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await missing.json()).toMatchObject({ code: 'validation_failed' });
    const broken = await fetch(`${gateway.url}/admin/models/pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":',
    });
    expect(broken.status).toBe(400);
    expect(sims[0]?.stats().requests['POST /api/pull'] ?? 0).toBe(0);
  });
});
