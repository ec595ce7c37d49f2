import { Ollama, type ChatResponse } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { GPU_8B_PROFILE, countPromptTokens, type OllamaSim } from '../src/index.js';
import { postJson, readLines, startQuietSim, waitFor } from './helpers.js';

let sim: OllamaSim | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const ask = (content: string) => [{ role: 'user', content }];

async function ps(url: string): Promise<Array<Record<string, unknown>>> {
  return ((await (await fetch(`${url}/api/ps`)).json()) as { models: Array<Record<string, unknown>> }).models;
}

describe('loading and unloading models', () => {
  it('a cold model is loaded once for all the requests that wait for it, and /api/ps shows it as Ollama does', async () => {
    // Long enough for the three concurrent requests to arrive during the load, even on a busy machine.
    sim = await startQuietSim({ loadMs: 1000 });
    const ollama = new Ollama({ host: sim.url });
    expect(await ps(sim.url)).toEqual([]);

    const replies = await Promise.all(
      [1, 2, 3].map((n) => ollama.chat({ model: 'llama3.2', messages: ask(`q${n}`), keep_alive: '10m' })),
    );
    const warm = await ollama.chat({ model: 'llama3.2', messages: ask('again') });
    expect(sim.stats().models['llama3.2:latest']).toMatchObject({ coldLoads: 1, peakRunning: 3 });
    // The load is in the load_duration of the requests that waited for it (the first waited longest);
    // a warm request has none of it.
    const loads = replies.map((r) => r.load_duration);
    expect(Math.max(...loads)).toBeGreaterThanOrEqual(990e6);
    expect(warm.load_duration).toBeLessThan(Math.min(...loads));

    const [entry] = await ps(sim.url);
    expect(Object.keys(entry ?? {})).toEqual([
      'name',
      'model',
      'modified_at',
      'size',
      'digest',
      'details',
      'expires_at',
      'size_vram',
      'context_length',
    ]);
    expect(entry).toMatchObject({ name: 'llama3.2:latest', size_vram: 2019393189, context_length: 4096 });
    const expiresIn = Date.parse(entry?.expires_at as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(5 * 60_000); // the last request's default keep_alive
  });

  it('keep_alive 0 unloads after the request; an empty chat loads, keep_alive -1 pins it', async () => {
    sim = await startQuietSim();
    const ollama = new Ollama({ host: sim.url });
    await ollama.chat({ model: 'llama3.2', messages: ask('once'), keep_alive: 0 });
    expect(await ps(sim.url)).toEqual([]);
    expect(sim.stats().models['llama3.2:latest']?.expirations).toBe(1);

    const load = await ollama.chat({ model: 'qwen3', messages: [], keep_alive: -1 });
    expect(load.done_reason).toBe('load');
    const [pinned] = await ps(sim.url);
    expect(pinned?.name).toBe('qwen3:latest');
    expect(Date.parse(pinned?.expires_at as string)).toBeGreaterThan(Date.now() + 100 * 365 * 86_400_000);
    const unload = await ollama.chat({ model: 'qwen3', messages: [], keep_alive: 0 });
    expect(unload.done_reason).toBe('unload');
    expect(await ps(sim.url)).toEqual([]);
  });

  it('OLLAMA_MAX_LOADED_MODELS: the model used least recently makes room', async () => {
    sim = await startQuietSim({ maxLoadedModels: 2 });
    const ollama = new Ollama({ host: sim.url });
    await ollama.chat({ model: 'llama3.2', messages: ask('a') });
    await ollama.chat({ model: 'qwen3', messages: ask('b') });
    await ollama.chat({ model: 'llama3.2', messages: ask('c') });
    await ollama.embed({ model: 'nomic-embed-text', input: 'd' });
    expect((await ps(sim.url)).map((m) => m.name).sort()).toEqual([
      'llama3.2:latest',
      'nomic-embed-text:latest',
    ]);
    expect(sim.stats().models['qwen3:latest']?.evictions).toBe(1);
    expect(sim.stats().models['llama3.2:latest']?.evictions).toBe(0);
  });
});

describe('slots per model', () => {
  it('OLLAMA_NUM_PARALLEL per model: the rest wait in the queue; the counters show the peak', async () => {
    sim = await startQuietSim({ maxParallel: 2, tokensPerSecond: 20, responseTokens: 50 });
    const current = sim;
    const abort = new AbortController();
    const body = { model: 'llama3.2', messages: ask('slow') };
    const pending = [1, 2, 3, 4].map(() =>
      postJson(`${current.url}/api/chat`, body, { signal: abort.signal }),
    );
    // Another model has slots of its own.
    const other = postJson(
      `${current.url}/api/chat`,
      { model: 'qwen3', messages: ask('x') },
      { signal: abort.signal },
    );
    await waitFor(() => current.stats().queued === 2 && current.stats().activeStreams === 3, 'two queued');

    const stats = (await (await fetch(`${current.url}/_sim/stats`)).json()) as {
      models: Record<string, { running: number; peakRunning: number }>;
    };
    expect(stats.models['llama3.2:latest']).toMatchObject({ running: 2, peakRunning: 2 });
    expect(stats.models['qwen3:latest']).toMatchObject({ running: 1 });
    abort.abort();
    await Promise.allSettled([...pending, other]);
    await waitFor(() => current.stats().activeStreams === 0 && current.stats().queued === 0, 'slots to free');
    await postJson(`${current.url}/_sim/stats/reset`, {});
    expect(current.stats().models['llama3.2:latest']).toMatchObject({ running: 0, peakRunning: 0 });
  });
});

describe('prompt processing and the KV cache', () => {
  it('a turn that extends the previous one only evaluates the new tokens', async () => {
    sim = await startQuietSim({ promptCache: true, maxParallel: 1 });
    const ollama = new Ollama({ host: sim.url });
    const first = ask('Tell me about the weather on Mars, please, in some detail.');
    const one = await ollama.chat({ model: 'llama3.2', messages: first });
    expect(one.prompt_eval_count).toBe(countPromptTokens(first[0]!.content));

    const next = [...first, one.message, { role: 'user', content: 'And on Venus?' }];
    const two: ChatResponse = await ollama.chat({ model: 'llama3.2', messages: next });
    const full = countPromptTokens(next.map((m) => m.content).join('\n'));
    const added = countPromptTokens(`\n${next[2]!.content}`);
    expect(two.prompt_eval_count).toBeLessThan(full);
    expect(two.prompt_eval_count).toBeGreaterThanOrEqual(added - 1);
    expect(two.prompt_eval_count).toBeLessThanOrEqual(added + 1);

    const other = await ollama.chat({ model: 'llama3.2', messages: ask('Something else entirely.') });
    expect(other.prompt_eval_count).toBe(countPromptTokens('Something else entirely.'));
  });

  it('prompt_eval_duration follows the prompt tokens at promptTokensPerSecond', async () => {
    sim = await startQuietSim({ promptTokensPerSecond: 1000 });
    const ollama = new Ollama({ host: sim.url });
    const reply = await ollama.chat({ model: 'llama3.2', messages: ask('x'.repeat(400)) });
    expect(reply.prompt_eval_count).toBe(100);
    expect(reply.prompt_eval_duration).toBe(100e6);
  });
});

describe('prompt processing shares the GPU', () => {
  it('two uncached prompts processed at once each take about twice as long as one alone', async () => {
    // Both wait for the same load, so they get their slots, and start their prompts, together.
    sim = await startQuietSim({ promptTokensPerSecond: 1000, loadMs: 50, maxParallel: 2 });
    const ollama = new Ollama({ host: sim.url });
    const [a, b] = await Promise.all([
      ollama.chat({ model: 'llama3.2', messages: ask('a'.repeat(400)) }),
      ollama.chat({ model: 'llama3.2', messages: ask('b'.repeat(400)) }),
    ]);
    expect([a.prompt_eval_count, b.prompt_eval_count]).toEqual([100, 100]);
    // Alone, 100 tokens take 100 ms (the test above); sharing 1,000 tokens/s, both take about 200 ms.
    for (const reply of [a, b]) expect(reply.prompt_eval_duration).toBeGreaterThan(150e6);
  });
});

describe('profiles', () => {
  it('gpu-8b sets the realistic costs; the admin route switches profiles and fields beside it win', async () => {
    sim = await startQuietSim({ profile: 'gpu-8b', tokensPerSecond: 0 });
    expect(sim.options()).toMatchObject({ ...GPU_8B_PROFILE, tokensPerSecond: 0, ttftMs: 0 });
    const fast = await postJson(`${sim.url}/_sim/config`, { profile: 'fast', maxParallel: 3 });
    expect(((await fast.json()) as { options: unknown }).options).toMatchObject({
      loadMs: 0,
      promptCache: false,
      maxParallel: 3,
    });
    const bad = await postJson(`${sim.url}/_sim/config`, { profile: 'gpu-999b' });
    expect(bad.status).toBe(400);
  });

  it('a streamed reply on the gpu-8b profile reports a load on its first request only', async () => {
    sim = await startQuietSim({ profile: 'gpu-8b', loadMs: 50, tokensPerSecond: 0 });
    const current = sim;
    const response = await postJson(`${current.url}/api/chat`, {
      model: 'qwen3',
      messages: ask('hi'),
      think: false,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const lines = await readLines(reader, 25);
    const last = lines.at(-1) as { done: boolean; load_duration: number };
    expect(last.done).toBe(true);
    expect(last.load_duration).toBeGreaterThanOrEqual(40e6);
    expect(current.stats().models['qwen3:latest']?.coldLoads).toBe(1);
  });
});
