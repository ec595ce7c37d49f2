import { type OllamaSim, expectedChatReply } from '@corral/ollama-sim';
import { describe, expect, it } from 'vitest';
import {
  type TestGateway,
  usePoolPerTest,
  backendState,
  backendStates,
  chatBody,
  firstChunk,
  ndjsonLines,
  postJson,
} from './helpers.js';

const pool = usePoolPerTest();

describe('failover before the first byte', () => {
  for (const failure of [{ mode: 'refuse' }, { mode: 'error-500' }] as const) {
    it(`a backend that fails (${failure.mode}) is skipped, ejected, and returns once it recovers`, async () => {
      const sims = await pool.startSims(2, { models: ['llama3.2'] });
      const [good, bad] = sims as [OllamaSim, OllamaSim];
      const gateway = await pool.startGateway(sims, { ROUTING_STRATEGY: 'round-robin' });
      const gw = gateway;
      bad.setFailure(failure);

      for (let i = 0; i < 4; i++) {
        const body = chatBody(`question ${i}`, { stream: false });
        const res = await postJson(`${gw.url}/api/chat`, body);
        expect(res.status).toBe(200);
        expect(res.headers.get('x-corral-backend')).toBe(good.url);
        expect(((await res.json()) as { message: { content: string } }).message.content).toBe(
          expectedChatReply(body).text,
        );
      }
      const hits = bad.stats().failures;
      expect(hits.refused + hits.error500).toBeGreaterThanOrEqual(1);
      expect(await backendState(gw, bad.url)).toBe('ejected');
      const view = (await backendStates(gw)).find((b) => b.url === bad.url);
      expect(view?.errors).toBeGreaterThanOrEqual(1);

      bad.setFailure({ mode: 'none' });
      await expect.poll(() => backendState(gw, bad.url), { timeout: 10_000 }).toBe('healthy');
      bad.resetStats();
      for (let i = 0; i < 4; i++) {
        await postJson(`${gw.url}/api/chat`, chatBody(`again ${i}`, { stream: false }));
      }
      expect(bad.stats().requests['POST /api/chat']).toBe(2);
    });
  }

  it('with no healthy backend left, requests get 503 rather than hanging', async () => {
    const sims = await pool.startSims(1, { models: ['llama3.2'] });
    // Ejected at its first failure (the default needs EJECT_AFTER_FAILURES within the window).
    const gateway = await pool.startGateway(sims, {
      EJECT_AFTER_FAILURES: '1',
      EJECT_BASE_MS: '60000',
      EJECT_MAX_MS: '60000',
      ROUTING_STRATEGY: 'round-robin',
    });
    (sims[0] as OllamaSim).setFailure({ mode: 'refuse' });
    const failed = await postJson(`${gateway.url}/api/chat`, chatBody('hello', { stream: false }));
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ code: 'bad_gateway' });
    const shed = await postJson(`${gateway.url}/api/chat`, chatBody('hello', { stream: false }));
    expect(shed.status).toBe(503);
    expect(await shed.json()).toMatchObject({ code: 'service_unavailable' });
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(503);
  });
});

describe('a stream that breaks after bytes were sent', () => {
  it('NDJSON: the client gets the partial tokens, then one final line with error and done', async () => {
    const sims = await pool.startSims(1, { models: ['llama3.2'] });
    const gateway = await pool.startGateway(sims, { ROUTING_STRATEGY: 'round-robin' });
    (sims[0] as OllamaSim).setFailure({ mode: 'drop-mid-stream', afterTokens: 3 });
    const body = chatBody('tell me everything');
    const res = await postJson(`${gateway.url}/api/chat`, body);
    expect(res.status).toBe(200);
    const lines = await ndjsonLines(res);
    expect(lines).toHaveLength(4);
    const partial = lines.slice(0, 3).map((l) => (l.message as { content: string }).content);
    expect(partial).toEqual(expectedChatReply(body).tokens.slice(0, 3));
    expect(lines[3]).toMatchObject({ done: true, error: expect.stringContaining('ended early') });
  });

  it('SSE (/v1): the stream ends with a data: error event', async () => {
    const sims = await pool.startSims(1, { models: ['llama3.2'] });
    const gateway = await pool.startGateway(sims, { ROUTING_STRATEGY: 'round-robin' });
    (sims[0] as OllamaSim).setFailure({ mode: 'drop-mid-stream', afterTokens: 2 });
    const res = await postJson(`${gateway.url}/v1/chat/completions`, { ...chatBody('go'), stream: true });
    const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: '));
    expect(events).toHaveLength(3);
    const last = JSON.parse((events[2] as string).slice(6)) as { error: { message: string } };
    expect(last.error.message).toContain('ended early');
  });
});

describe('client disconnect', () => {
  it('aborting a stream through the gateway cancels the generation on the backend', async () => {
    const sims = await pool.startSims(1, { models: ['llama3.2'], tokensPerSecond: 5 });
    const gateway = await pool.startGateway(sims, { ROUTING_STRATEGY: 'round-robin' });
    const sim = sims[0] as OllamaSim;
    const controller = new AbortController();
    const res = await postJson(`${gateway.url}/api/chat`, chatBody('a long story'), controller.signal);
    const { text } = await firstChunk(res);
    expect(text).toContain('"done":false');
    expect(sim.stats().activeStreams).toBe(1);
    controller.abort();
    await expect.poll(() => sim.stats().cancelled).toBe(1);
    expect(sim.stats().completed).toBe(0);
    await expect.poll(async () => (await backendStates(gateway as TestGateway))[0]?.inFlight).toBe(0);
    expect(await backendState(gateway, sim.url)).toBe('healthy');
  });
});

describe('ejection needs several failures, and never takes the last backend for one dropped stream', () => {
  it('one dropped stream on the only backend: the next request is served, the backend stays in', async () => {
    const sims = await pool.startSims(1, { models: ['llama3.2'] });
    // Even with ejection at the first failure, a dropped stream alone does not eject the last backend.
    const gateway = await pool.startGateway(sims, {
      EJECT_AFTER_FAILURES: '1',
      HEALTH_INTERVAL_MS: '600000',
    });
    const sim = sims[0] as OllamaSim;
    sim.setFailure({ mode: 'drop-mid-stream', afterTokens: 2 });
    const broken = await postJson(`${gateway.url}/api/chat`, chatBody('tell me everything'));
    expect((await ndjsonLines(broken)).at(-1)).toMatchObject({ done: true, error: expect.any(String) });
    sim.setFailure({ mode: 'none' });
    const next = await postJson(`${gateway.url}/api/chat`, chatBody('and now?', { stream: false }));
    expect(next.status).toBe(200);
    expect(await backendState(gateway, sim.url)).toBe('healthy');
  });

  it('with the defaults, one failure ejects nothing; EJECT_AFTER_FAILURES within the window do', async () => {
    const sims = await pool.startSims(2, { models: ['llama3.2'] });
    const [, bad] = sims as [OllamaSim, OllamaSim];
    const gateway = await pool.startGateway(sims, {
      HEALTH_INTERVAL_MS: '600000',
      ROUTING_STRATEGY: 'round-robin',
    });
    bad.setFailure({ mode: 'error-500' });
    const failuresOnBad = () => bad.stats().failures.error500;
    for (let i = 0; failuresOnBad() < 1 && i < 50; i += 1)
      expect((await postJson(`${gateway.url}/api/chat`, chatBody(`q${i}`, { stream: false }))).status).toBe(
        200,
      );
    expect(failuresOnBad()).toBe(1);
    expect(await backendState(gateway, bad.url)).toBe('healthy');
    for (let i = 0; failuresOnBad() < 3 && i < 200; i += 1)
      expect((await postJson(`${gateway.url}/api/chat`, chatBody(`r${i}`, { stream: false }))).status).toBe(
        200,
      );
    expect(failuresOnBad()).toBe(3);
    expect(await backendState(gateway, bad.url)).toBe('ejected');
  });
});
