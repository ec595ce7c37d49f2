// Issue 21, finding 12 (gateway side): user input never becomes a metric label. 1,000 requests
// naming random models, over every route that takes a model, add no series to the gateway's /metrics.
import { randomBytes } from 'node:crypto';
import type { OllamaSim } from '@corral/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestGateway, postJson, startGateway, startSims } from './helpers.js';

let sims: OllamaSim[];
let gateway: TestGateway;

beforeAll(async () => {
  sims = await startSims(1, { models: ['llama3.2', 'nomic-embed-text'] });
  gateway = await startGateway(sims);
});

afterAll(async () => {
  await gateway.close();
  await Promise.all(sims.map((sim) => sim.close()));
});

const randomModel = () => `rand-${randomBytes(6).toString('hex')}`;
const messages = [{ role: 'user', content: 'hi' }];

/** Every route that reads a model from the body, with a body naming `model`. */
const ROUTES: Array<[string, (model: string) => object]> = [
  ['/api/chat', (model) => ({ model, messages, stream: false })],
  ['/api/chat', (model) => ({ model, messages })],
  ['/api/generate', (model) => ({ model, prompt: 'hi', stream: false })],
  ['/api/embed', (model) => ({ model, input: 'hi' })],
  ['/api/embeddings', (model) => ({ model, prompt: 'hi' })],
  ['/api/show', (model) => ({ model })],
  ['/v1/chat/completions', (model) => ({ model, messages })],
  ['/v1/chat/completions', (model) => ({ model, messages, stream: true })],
  ['/v1/embeddings', (model) => ({ model, input: 'hi' })],
];

async function ask(model: string, i: number): Promise<void> {
  const [path, body] = ROUTES[i % ROUTES.length]!;
  const res = await postJson(`${gateway.url}${path}`, body(model));
  await res.arrayBuffer();
  expect(res.status, `${path} ${res.status}`).toBeLessThan(500);
}

/** Every series (name and labels) in /metrics but Node's own runtime ones, which come and go. */
async function series(): Promise<string[]> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#') && !/^(nodejs|process)_/.test(line))
    .map((line) => line.replace(/ [^ ]+$/, ''));
}

describe('gateway metric labels', () => {
  it('stay a bounded set: 1,000 random model names add no series', { timeout: 120_000 }, async () => {
    // Warm up every route (its outcomes and status codes) with a few names, and a real model.
    for (let i = 0; i < ROUTES.length * 2; i += 1) await ask(randomModel(), i);
    for (let i = 0; i < ROUTES.length; i += 1) await ask(i % 5 < 3 ? 'llama3.2' : 'nomic-embed-text', i);
    await series();
    const before = await series();
    for (let i = 0; i < 1000; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => ask(randomModel(), i + j)));
    }
    const after = await series();
    expect(after.filter((line) => line.includes('rand-'))).toEqual([]);
    expect(after.filter((line) => !before.includes(line))).toEqual([]);
    expect(after.length).toBe(before.length);
  });
});
