import { afterEach, describe, expect, it } from 'vitest';
import { BUSY_MESSAGE, expectedChatReply, type OllamaSim } from '../src/index.js';
import { ndjsonLines, postJson, readLines, startQuietSim, waitFor } from './helpers.js';

let sim: OllamaSim | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const chatBody = { model: 'llama3.2', messages: [{ role: 'user', content: 'hello there' }] };

describe('raw HTTP: wire format', () => {
  it('streams NDJSON by default: every line parses, the last one carries integer nanosecond durations', async () => {
    sim = await startQuietSim();
    const response = await postJson(`${sim.url}/api/chat`, chatBody);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await ndjsonLines(response)) as Array<Record<string, unknown>>;
    const expected = expectedChatReply(chatBody);
    expect(lines).toHaveLength(expected.tokens.length + 1);
    for (const line of lines.slice(0, -1)) {
      expect(Object.keys(line)).toEqual(['model', 'created_at', 'message', 'done']);
      expect(line.done).toBe(false);
      expect(Number.isNaN(Date.parse(line.created_at as string))).toBe(false);
    }
    const final = lines.at(-1) as Record<string, unknown>;
    expect(final).toMatchObject({ done: true, done_reason: 'stop', eval_count: expected.evalCount });
    for (const field of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration']) {
      expect(Number.isInteger(final[field])).toBe(true);
    }
  });

  it('answers "Ollama is running" on GET / and HEAD /, and a version', async () => {
    sim = await startQuietSim();
    expect(await (await fetch(`${sim.url}/`)).text()).toBe('Ollama is running');
    const head = await fetch(`${sim.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await (await fetch(`${sim.url}/api/version`)).json()).toEqual({ version: '0.13.0-sim' });
  });

  it('an empty messages list loads the model without generating', async () => {
    sim = await startQuietSim();
    const response = await postJson(`${sim.url}/api/chat`, { model: 'llama3.2', messages: [] });
    expect(await response.json()).toMatchObject({ done: true, done_reason: 'load' });
  });
});

describe('raw HTTP: error paths', () => {
  it("unknown model → 404 with Ollama's error text", async () => {
    sim = await startQuietSim();
    const response = await postJson(`${sim.url}/api/generate`, { model: 'x', prompt: 'hi' });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'model "x" not found, try pulling it first' });
  });

  it('malformed JSON and a missing model → 400 with an error field', async () => {
    sim = await startQuietSim();
    const malformed = await fetch(`${sim.url}/api/chat`, { method: 'POST', body: '{"model": ' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: expect.stringContaining('invalid JSON') });

    const missing = await postJson(`${sim.url}/api/chat`, { messages: [] });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: 'model is required' });
  });

  it("answers 503 with Ollama's busy message when parallel slots and queue are full", async () => {
    sim = await startQuietSim({ maxParallel: 1, maxQueue: 1, tokensPerSecond: 2, responseTokens: 100 });
    const current = sim;
    const abort = new AbortController();
    const running = await postJson(`${current.url}/api/chat`, chatBody, { signal: abort.signal });
    expect(running.status).toBe(200);
    const waiting = postJson(`${current.url}/api/chat`, chatBody, { signal: abort.signal }).catch(() => null);
    await waitFor(() => current.stats().queued === 1, 'the second request to queue');

    const rejected = await postJson(`${current.url}/api/chat`, chatBody);
    expect(rejected.status).toBe(503);
    expect(await rejected.json()).toEqual({ error: BUSY_MESSAGE });
    expect(BUSY_MESSAGE).toBe('server busy, please try again.  maximum pending requests exceeded');
    expect(current.stats().rejectedBusy).toBe(1);

    abort.abort();
    await waiting;
    await waitFor(() => current.stats().activeStreams === 0 && current.stats().queued === 0, 'slots to free');
  });

  it('a queued request runs once the slot frees up', async () => {
    sim = await startQuietSim({ maxParallel: 1, maxQueue: 4 });
    const replies = await Promise.all(
      [1, 2, 3].map((n) =>
        postJson(`${sim?.url}/api/generate`, { model: 'llama3.2', prompt: `p${n}`, stream: false }).then(
          (r) => r.json(),
        ),
      ),
    );
    expect(replies.every((reply) => (reply as { done: boolean }).done)).toBe(true);
  });
});

describe('raw HTTP: client disconnect', () => {
  it('stops generating when the client goes away, and counts it', async () => {
    sim = await startQuietSim({ tokensPerSecond: 50, responseTokens: 500 });
    const current = sim;
    const abort = new AbortController();
    const response = await postJson(`${current.url}/api/chat`, chatBody, { signal: abort.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await readLines(reader, 2);
    expect(first[0]?.done).toBe(false);

    abort.abort();
    await waitFor(() => current.stats().cancelled === 1, 'the sim to see the disconnect');
    expect(current.stats().activeStreams).toBe(0);
    const emittedAtCancel = current.stats().tokensEmitted;
    expect(emittedAtCancel).toBeLessThan(500);

    // A short request at the same pace: if the cancelled stream were still running, it would add tokens too.
    current.setOptions({ responseTokens: 5 });
    await (await postJson(`${current.url}/api/chat`, chatBody)).text();
    expect(current.stats().tokensEmitted).toBe(emittedAtCancel + 5);
    expect(current.stats().completed).toBe(1);
  });
});
