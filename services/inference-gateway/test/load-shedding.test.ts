import { type OllamaSim, expectedChatReply } from '@corral/ollama-sim';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type TestGateway,
  usePoolPerTest,
  backendStates,
  chatBody,
  firstChunk,
  ndjsonLines,
  postJson,
  readRest,
} from './helpers.js';

const pool = usePoolPerTest();
const aborts: AbortController[] = [];

// After-each hooks run last-registered first: streams are aborted before the pool closes.
afterEach(() => {
  for (const controller of aborts.splice(0)) controller.abort();
});

function abortable(): AbortSignal {
  const controller = new AbortController();
  aborts.push(controller);
  return controller.signal;
}

const queueDepth = async (gw: TestGateway) => {
  const res = await fetch(`${gw.url}/admin/backends`);
  return ((await res.json()) as { queue: { depth: number } }).queue.depth;
};

describe('per-backend concurrency limit and a bounded queue', () => {
  it('runs one, queues one, sheds the third with 503 + Retry-After; the queued one completes', async () => {
    // 24 tokens at 40/s: the first stream holds the only slot for about 0.6 s.
    const sims = await pool.startSims(1, { models: ['llama3.2'], tokensPerSecond: 40 });
    const gateway = await pool.startGateway(sims, {
      BACKEND_MAX_PARALLEL: '1',
      QUEUE_MAX: '1',
      QUEUE_TIMEOUT_MS: '20000',
    });
    const gw = gateway;

    const first = await postJson(`${gw.url}/api/chat`, chatBody('first'), abortable());
    const { reader: firstReader } = await firstChunk(first);
    const second = postJson(`${gw.url}/api/chat`, chatBody('second'), abortable());
    await expect.poll(() => queueDepth(gw)).toBe(1);
    expect((await backendStates(gw))[0]).toMatchObject({ inFlight: 1, queued: 1 });

    const third = await postJson(`${gw.url}/api/chat`, chatBody('third'));
    expect(third.status).toBe(503);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await third.json()).toMatchObject({ code: 'overloaded' });

    await readRest(firstReader);
    const secondRes = await second;
    expect(secondRes.status).toBe(200);
    const lines = await ndjsonLines(secondRes);
    const text = lines.map((l) => (l.message as { content: string }).content).join('');
    expect(text).toBe(expectedChatReply(chatBody('second')).text);
    // The backend never saw more than one generation at a time, and never the shed one.
    expect(sims[0]?.stats().rejectedBusy).toBe(0);
    expect(sims[0]?.stats().requests['POST /api/chat']).toBe(2);
  });

  it('a request that waits longer than QUEUE_TIMEOUT_MS gets 503 with Retry-After', async () => {
    const sims = await pool.startSims(1, { models: ['llama3.2'], tokensPerSecond: 2 });
    const gateway = await pool.startGateway(sims, {
      BACKEND_MAX_PARALLEL: '1',
      QUEUE_MAX: '4',
      QUEUE_TIMEOUT_MS: '100',
    });
    const first = await postJson(`${gateway.url}/api/chat`, chatBody('slow'), abortable());
    await firstChunk(first);
    const waited = await postJson(`${gateway.url}/api/chat`, chatBody('impatient'));
    expect(waited.status).toBe(503);
    expect(waited.headers.get('retry-after')).toBe('1');
    expect(await waited.json()).toMatchObject({ code: 'overloaded' });
    expect(await queueDepth(gateway)).toBe(0);
  });

  it('a backend answering 503 "busy" is treated as full, not dead', async () => {
    const sims = await pool.startSims(2, { models: ['llama3.2'] });
    (sims[0] as OllamaSim).setOptions({ maxParallel: 1, maxQueue: 0, tokensPerSecond: 2 });
    const gateway = await pool.startGateway(sims, { BACKEND_MAX_PARALLEL: '4' });
    const gw = gateway;
    // Occupy sim 0's only slot directly, so it answers the gateway's request with 503 busy.
    const direct = await postJson(`${(sims[0] as OllamaSim).url}/api/chat`, chatBody('hog'), abortable());
    await firstChunk(direct);
    for (let i = 0; i < 4; i++) {
      const res = await postJson(`${gw.url}/api/chat`, chatBody(`q${i}`, { stream: false }));
      expect(res.status).toBe(200);
    }
    expect(sims[0]?.stats().rejectedBusy).toBeGreaterThanOrEqual(1);
    const states = await backendStates(gw);
    expect(states.map((b) => b.state)).toEqual(['healthy', 'healthy']);
  });
});
