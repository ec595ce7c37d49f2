import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { expectedChatReply, type OllamaSim } from '../src/index.js';
import { postJson, startQuietSim } from './helpers.js';

let sim: OllamaSim | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const chatBody: { model: string; messages: Array<{ role: string; content: string }> } = {
  model: 'llama3.2',
  messages: [{ role: 'user', content: 'are you real?' }],
};

describe('failure injection', () => {
  it('refuse: the connection closes without an answer, until healed', async () => {
    sim = await startQuietSim();
    sim.setFailure({ mode: 'refuse' });
    await expect(fetch(`${sim.url}/api/tags`)).rejects.toThrow();
    await expect(new Ollama({ host: sim.url }).list()).rejects.toThrow();
    expect(sim.stats().failures.refused).toBe(2);

    sim.setFailure({ mode: 'none' });
    expect((await fetch(`${sim.url}/api/tags`)).status).toBe(200);
  });

  it('error-500: Ollama and OpenAI clients both see a server error', async () => {
    sim = await startQuietSim();
    sim.setFailure({ mode: 'error-500', message: 'GPU on fire' });
    await expect(
      new Ollama({ host: sim.url }).chat({ ...chatBody }) /* the client writes `stream` into its argument */,
    ).rejects.toMatchObject({
      status_code: 500,
      error: 'GPU on fire',
    });
    const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 0 });
    await expect(openai.chat.completions.create(chatBody as never)).rejects.toBeInstanceOf(
      OpenAI.InternalServerError,
    );
  });

  it('times: the failure applies to that many requests only', async () => {
    sim = await startQuietSim();
    sim.setFailure({ mode: 'error-500', times: 1 });
    expect((await fetch(`${sim.url}/api/tags`)).status).toBe(500);
    expect((await fetch(`${sim.url}/api/tags`)).status).toBe(200);
  });

  it('drop-mid-stream: the client gets the first N tokens and then a broken stream', async () => {
    sim = await startQuietSim();
    sim.setFailure({ mode: 'drop-mid-stream', afterTokens: 3 });
    const expected = expectedChatReply(chatBody);
    const received: string[] = [];
    const consume = async (): Promise<void> => {
      const stream = await new Ollama({ host: sim?.url }).chat({ ...chatBody, stream: true });
      for await (const chunk of stream) received.push(chunk.message.content);
    };
    await expect(consume()).rejects.toThrow();
    expect(received).toEqual(expected.tokens.slice(0, 3));
    expect(sim.stats().failures.dropped).toBe(1);
    expect(sim.stats().completed).toBe(0);
  });

  it('drop-mid-stream only hits generations: listing models still works', async () => {
    sim = await startQuietSim();
    sim.setFailure({ mode: 'drop-mid-stream', afterTokens: 0 });
    expect((await fetch(`${sim.url}/api/tags`)).status).toBe(200);
    await expect(postJson(`${sim.url}/api/chat`, { ...chatBody, stream: false })).rejects.toThrow();
  });

  it('hang: the request is accepted and never answered, so the client times out', async () => {
    sim = await startQuietSim();
    sim.setFailure({ mode: 'hang' });
    const error = await postJson(`${sim.url}/api/chat`, chatBody, { signal: AbortSignal.timeout(200) }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).name).toBe('TimeoutError');
    expect(sim.stats().failures.hung).toBe(1);
  });

  it('the admin endpoint sets failures and options from outside the process', async () => {
    sim = await startQuietSim();
    const configured = await postJson(`${sim.url}/_sim/config`, {
      responseTokens: 3,
      failure: { mode: 'error-500', paths: ['/api/chat'] },
    });
    expect(configured.status).toBe(200);
    expect(await configured.json()).toMatchObject({ simulator: true, options: { responseTokens: 3 } });

    expect((await postJson(`${sim.url}/api/chat`, chatBody)).status).toBe(500);
    const generated = await postJson(`${sim.url}/api/generate`, {
      model: 'llama3.2',
      prompt: 'x',
      stream: false,
    });
    expect(((await generated.json()) as { eval_count: number }).eval_count).toBe(3);

    const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as { failures: { error500: number } };
    expect(stats.failures.error500).toBe(1);

    const bad = await postJson(`${sim.url}/_sim/config`, { ttftMs: -1 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: expect.stringContaining('ttftMs') });

    await postJson(`${sim.url}/_sim/config`, { failure: { mode: 'none' } });
    expect((await postJson(`${sim.url}/api/chat`, chatBody)).status).toBe(200);

    const reset = await postJson(`${sim.url}/_sim/stats/reset`, {});
    expect(await reset.json()).toMatchObject({ completed: 0, requests: {} });
  });

  it('close() ends open streams', async () => {
    const current = await startQuietSim({ tokensPerSecond: 10, responseTokens: 1000 });
    const response = await postJson(`${current.url}/api/chat`, chatBody);
    const body = response.text();
    await current.close();
    await expect(body).rejects.toThrow();
  });
});
