import type { OllamaSim } from '@corral/ollama-sim';
import { describe, expect, it } from 'vitest';
import { chatBody, postJson, usePoolPerTest, waitUntil } from './helpers.js';

const pool = usePoolPerTest();
const MODEL = 'llama3.2:latest';

/** Sims that cost what a GPU server does (loads, slots, prompt cache), with a short load for tests. */
const gpuSims = (count: number) =>
  pool.startSims(count, { profile: 'gpu-8b', loadMs: 400, tokensPerSecond: 2000, models: ['llama3.2'] });

const coldLoads = (sims: OllamaSim[]) =>
  sims.reduce((sum, sim) => sum + (sim.stats().models[MODEL]?.coldLoads ?? 0), 0);

async function adminBackends(url: string) {
  const res = await fetch(`${url}/admin/backends`);
  return (await res.json()) as {
    strategy: string;
    coldLoads: number;
    affinity: { hits: number; misses: number; hitRate: number | null };
    backends: Array<{
      url: string;
      loaded: string[];
      slotsInUse: Record<string, number>;
      promptBacklog: { prompts: number; tokens: number };
    }>;
  };
}

describe('cache-aware routing against GPU-profile sims', () => {
  it('loads a model nobody has loaded once; concurrent requests wait for that load', async () => {
    const sims = await gpuSims(3);
    const gateway = await pool.startGateway(sims, { BACKEND_MAX_PARALLEL: '4', COLD_LOAD_WAIT_MS: '60000' });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        postJson(`${gateway.url}/api/chat`, chatBody(`cold ${i}`, { stream: false })),
      ),
    );
    expect(answers.map((res) => res.status)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((res) => res.headers.get('x-corral-backend'))).size).toBe(1);
    expect(coldLoads(sims)).toBe(1);
    const view = await adminBackends(gateway.url);
    expect(view.strategy).toBe('cache-aware');
    expect(view.coldLoads).toBe(1);
  });

  it('sends requests where the model is loaded (read from /api/ps), loading it nowhere else', async () => {
    const sims = await gpuSims(3);
    const warm = sims[2] as OllamaSim;
    // Loaded there before the gateway starts: the gateway learns it from /api/ps.
    expect((await postJson(`${warm.url}/api/chat`, chatBody('warm up', { stream: false }))).status).toBe(200);
    const gateway = await pool.startGateway(sims, { BACKEND_MAX_PARALLEL: '4' });
    await waitUntil(
      async () => (await adminBackends(gateway.url)).backends.some((b) => b.loaded.includes(MODEL)),
      'the gateway sees the loaded model',
    );
    for (let i = 0; i < 6; i++) {
      const res = await postJson(`${gateway.url}/api/chat`, chatBody(`q${i}`, { stream: false }));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-corral-backend')).toBe(warm.url);
    }
    expect(coldLoads(sims)).toBe(1);
  });

  it('forgets a prompt once the backend answers it (its first byte), however much faster than PROMPT_TOKENS_PER_SECOND', async () => {
    // The sims process prompts at once (the gateway's estimate says 2,000 tokens/s) and then
    // stream slowly, so the requests are still running when the backlog is read.
    const sims = await pool.startSims(2, { models: ['llama3.2'], tokensPerSecond: 2, ttftMs: 0 });
    const gateway = await pool.startGateway(sims, { BACKEND_MAX_PARALLEL: '64' });
    const stop = new AbortController();
    // 12 prompts of about 10,000 tokens (40 KB each): a minute of estimated prompt work.
    const long = 'x'.repeat(40_000);
    const streams = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const res = await postJson(
          `${gateway.url}/api/chat`,
          chatBody(`${i} ${long}`, { stream: true }),
          stop.signal,
        );
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        await reader.read();
        return { status: res.status, reader };
      }),
    );
    try {
      expect(streams.map((s) => s.status)).toEqual(Array(12).fill(200));
      const view = await adminBackends(gateway.url);
      expect(view.strategy).toBe('cache-aware');
      const running = view.backends.reduce((n, b) => n + (b.slotsInUse[MODEL] ?? 0), 0);
      expect(running).toBe(12);
      expect(view.backends.map((b) => b.promptBacklog)).toEqual([
        { prompts: 0, tokens: 0 },
        { prompts: 0, tokens: 0 },
      ]);
    } finally {
      stop.abort();
      await Promise.all(streams.map((s) => s.reader.cancel().catch(() => undefined)));
    }
  });

  it('keeps a conversation on one backend turn after turn (header key), and counts the hits', async () => {
    const sims = await gpuSims(3);
    const gateway = await pool.startGateway(sims, { BACKEND_MAX_PARALLEL: '4' });
    const messages: Array<{ role: string; content: string }> = [];
    const served = new Set<string | null>();
    for (let turn = 0; turn < 5; turn++) {
      messages.push({ role: 'user', content: `turn ${turn}` });
      const res = await fetch(`${gateway.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-corral-conversation': 'conv-42' },
        body: JSON.stringify({ model: 'llama3.2', messages, stream: false }),
      });
      expect(res.status).toBe(200);
      served.add(res.headers.get('x-corral-backend'));
      const reply = (await res.json()) as { message: { role: string; content: string } };
      messages.push(reply.message);
    }
    expect(served.size).toBe(1);
    const view = await adminBackends(gateway.url);
    expect(view.affinity).toEqual({ hits: 4, misses: 0, hitRate: 1 });
  });

  it('loads the model on another backend in the background once its conversations fill the slots', async () => {
    const sims = await gpuSims(2);
    const gateway = await pool.startGateway(sims, { BACKEND_MAX_PARALLEL: '2' });
    const turn = async (conversation: string) => {
      const res = await fetch(`${gateway.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-corral-conversation': conversation },
        body: JSON.stringify({
          model: 'llama3.2',
          messages: [{ role: 'user', content: conversation }],
          stream: false,
        }),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      return res.headers.get('x-corral-backend');
    };
    // One request at a time: the first backend never runs out of slots, so nothing spills.
    const first = await turn('conv-0');
    expect(await turn('conv-1')).toBe(first);
    // A third live conversation: the first backend's two slots cannot cache three, so the gateway
    // loads the model on the other one without making this turn wait for it.
    expect(await turn('conv-2')).toBe(first);
    const other = sims.find((sim) => sim.url !== first) as OllamaSim;
    await waitUntil(
      async () =>
        (await adminBackends(gateway.url)).backends.some(
          (b) => b.url === other.url && b.loaded.includes(MODEL),
        ),
      'the other backend has the model',
    );
    expect(coldLoads(sims)).toBe(2);
    // New conversations now get a cache of their own there.
    expect(await turn('conv-3')).toBe(other.url);
  });

  it('does not let a client unload (keep_alive 0) a model on the shared servers', async () => {
    const sims = await gpuSims(1);
    const sim = sims[0] as OllamaSim;
    const gateway = await pool.startGateway(sims);
    const res = await postJson(`${gateway.url}/api/chat`, chatBody('bye', { stream: false, keep_alive: 0 }));
    expect(res.status).toBe(200);
    const ps = (await (await fetch(`${sim.url}/api/ps`)).json()) as { models: Array<{ name: string }> };
    expect(ps.models.map((m) => m.name)).toEqual([MODEL]);
    expect(sim.stats().models[MODEL]?.expirations ?? 0).toBe(0);
  });

  it('sets the pool’s keep_alive (KEEP_ALIVE) on every generation', async () => {
    const sims = await gpuSims(1);
    const sim = sims[0] as OllamaSim;
    const gateway = await pool.startGateway(sims, { KEEP_ALIVE: '0' });
    expect((await postJson(`${gateway.url}/api/chat`, chatBody('x', { stream: false }))).status).toBe(200);
    // The operator’s value reaches the server: 0 unloads the model after the request.
    await waitUntil(async () => (sim.stats().models[MODEL]?.expirations ?? 0) === 1, 'the model unloads');
  });
});
