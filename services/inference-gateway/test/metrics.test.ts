import { type OllamaSim, expectedChatReply, expectedOpenAIChatReply } from '@corral/ollama-sim';
import OpenAI from 'openai';
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

/** The value of one series, or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics for autoscaling (the names the chart’s HPA, adapter rule and alerts query)', () => {
  it('counts eval_count / prompt_eval_count of each final chunk, by model and backend', async () => {
    const sim = sims[0] as OllamaSim;
    const labels = `{model="llama3.2:latest",backend="${sim.url}"}`;
    const before = await scrape();
    const streamed = chatBody('count me');
    const whole = chatBody('count me too', { stream: false });
    const lines = await ndjsonLines(await postJson(`${gateway.url}/api/chat`, streamed));
    const final = lines.at(-1) as { done: boolean; eval_count: number; prompt_eval_count: number };
    const reply = (await (await postJson(`${gateway.url}/api/chat`, whole)).json()) as typeof final;
    expect(final.eval_count).toBe(expectedChatReply(streamed).evalCount);

    const text = await scrape();
    const generated = sample(text, `corral_gateway_generated_tokens_total${labels}`) ?? 0;
    const prompt = sample(text, `corral_gateway_prompt_tokens_total${labels}`) ?? 0;
    expect(generated - (sample(before, `corral_gateway_generated_tokens_total${labels}`) ?? 0)).toBe(
      final.eval_count + reply.eval_count,
    );
    expect(prompt - (sample(before, `corral_gateway_prompt_tokens_total${labels}`) ?? 0)).toBe(
      final.prompt_eval_count + reply.prompt_eval_count,
    );
    expect(sample(text, `corral_gateway_tokens_per_second{backend="${sim.url}"}`)).toBeGreaterThan(0);
    // Time to first token is known for streamed generations only.
    expect(
      sample(text, 'corral_gateway_time_to_first_token_seconds_count{model="llama3.2:latest"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(
        text,
        'corral_gateway_request_duration_seconds_count{route="/api/chat",model="llama3.2:latest",outcome="ok"}',
      ),
    ).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'corral_gateway_queue_depth')).toBe(0);
    expect(sample(text, `corral_gateway_backend_inflight{backend="${sim.url}"}`)).toBe(0);
    expect(sample(text, `corral_gateway_backend_healthy{backend="${sim.url}"}`)).toBe(1);
    expect(text).toContain('# TYPE corral_gateway_retries_total counter');
    expect(text).toContain('# TYPE corral_gateway_ejections_total counter');
  });

  it('a /v1 stream is counted although the client did not ask for usage, and it sees no usage event', async () => {
    const sim = sims[0] as OllamaSim;
    const series = `corral_gateway_generated_tokens_total{model="llama3.2:latest",backend="${sim.url}"}`;
    const before = sample(await scrape(), series) ?? 0;
    const request = { ...chatBody('openai, uncounted?'), stream: true };
    const res = await postJson(`${gateway.url}/v1/chat/completions`, request);
    const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: '));
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as Record<string, unknown>);
    expect(chunks.every((chunk) => !('usage' in chunk) && Array.isArray(chunk.choices))).toBe(true);
    expect(chunks.every((chunk) => (chunk.choices as unknown[]).length === 1)).toBe(true);
    const expected = expectedOpenAIChatReply(request);
    expect(sample(await scrape(), series)).toBe(before + expected.evalCount);
  });

  it('a /v1 client that asks for usage gets it (the openai SDK), and it is counted once', async () => {
    const sim = sims[0] as OllamaSim;
    const series = `corral_gateway_generated_tokens_total{model="llama3.2:latest",backend="${sim.url}"}`;
    const before = sample(await scrape(), series) ?? 0;
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused' });
    const stream = await openai.chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'with usage please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let completionTokens: number | undefined;
    for await (const chunk of stream) completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
    expect(completionTokens).toBeGreaterThan(0);
    expect(sample(await scrape(), series)).toBe(before + (completionTokens ?? 0));
  });

  it('an unknown model is labelled "other", never with the name the client made up', async () => {
    await postJson(`${gateway.url}/api/chat`, chatBody('x', { model: 'made-up-model-123' }));
    const text = await scrape();
    expect(text).not.toContain('made-up-model-123');
    expect(
      sample(
        text,
        'corral_gateway_request_duration_seconds_count{route="/api/chat",model="other",outcome="model_not_found"}',
      ),
    ).toBe(1);
  });

  it('is ready while a backend is healthy', async () => {
    const res = await fetch(`${gateway.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ checks: { backends: { status: 'up' } } });
  });
});
