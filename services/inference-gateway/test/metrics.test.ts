import { type OllamaSim, expectedChatReply } from '@corral/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestGateway, chatBody, ndjsonLines, postJson, startGateway, startSims } from './helpers.js';

let sims: OllamaSim[];
let gateway: TestGateway;

beforeAll(async () => {
  sims = await startSims(1, { models: ['llama3.2'] });
  gateway = await startGateway(sims);
});

afterAll(async () => {
  await gateway.close();
  await Promise.all(sims.map((sim) => sim.close()));
});

const scrape = async () => (await fetch(`${gateway.url}/metrics`)).text();

describe('metrics for autoscaling', () => {
  it('counts eval_count of each final chunk as generated tokens, by model and backend', async () => {
    const sim = sims[0] as OllamaSim;
    const streamed = chatBody('count me');
    const whole = chatBody('count me too', { stream: false });
    const lines = await ndjsonLines(await postJson(`${gateway.url}/api/chat`, streamed));
    expect(lines.at(-1)).toMatchObject({ done: true });
    await (await postJson(`${gateway.url}/api/chat`, whole)).json();
    const expected = expectedChatReply(streamed).evalCount + expectedChatReply(whole).evalCount;

    const text = await scrape();
    expect(text).toContain(`gateway_tokens_total{model="llama3.2:latest",backend="${sim.url}"} ${expected}`);
    expect(text).toMatch(/gateway_prompt_tokens_total\{model="llama3.2:latest",backend="[^"]+"\} \d+/);
    expect(text).toContain('gateway_requests_total{route="/api/chat",outcome="ok"} 2');
    expect(text).toMatch(/gateway_time_to_first_byte_seconds_count\{route="\/api\/chat"\} 2/);
    const rate = /gateway_tokens_per_second\{backend="[^"]+"\} ([\d.e+-]+)/.exec(text);
    expect(Number(rate?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^gateway_queue_depth 0$/m);
    expect(text).toMatch(/gateway_backend_inflight\{backend="[^"]+"\} 0/);
  });

  it('is ready while a backend is healthy', async () => {
    const res = await fetch(`${gateway.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ checks: { backends: { status: 'up' } } });
  });
});
