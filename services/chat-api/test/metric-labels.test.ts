import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createApiKey, type TestChat, useChatApiStack } from './helpers.js';

const stack = useChatApiStack({ chat: false, users: ['user'] });
let chat: TestChat;
let key: string;

beforeAll(async () => {
  chat = await stack.startChat({ env: { RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_STREAMS: '0' } });
  key = await createApiKey(stack.user);
});

const randomModel = () => `rand-${randomBytes(6).toString('hex')}`;

/**
 * Every series in chat-api's /metrics (the sample lines' names and labels), and those naming a random
 * model. Node's own runtime series (`nodejs_*`, `process_*`: GC kinds, handle types) come and go with
 * the runtime's state, from sets of their own: left out.
 */
async function series(): Promise<{ names: string[]; random: string[] }> {
  const text = (await request(chat.url).get('/metrics').expect(200)).text;
  const names = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#') && !/^(nodejs|process)_/.test(line))
    .map((line) => line.replace(/ [^ ]+$/, ''));
  return { names, random: names.filter((line) => line.includes('rand-')) };
}

/** One request naming `model` on one of the paths that take a model (by `i`): /v1 chat (both forms), embeddings, the UI. */
async function askWith(model: string, i: number): Promise<void> {
  const v1 = (path: string, body: object) => request(chat.url).post(path).set(bearer(key)).send(body);
  const messages = [{ role: 'user', content: 'hi' }];
  const reply = await [
    () => v1('/v1/chat/completions', { model, messages }),
    () => v1('/v1/chat/completions', { model, stream: true, messages }),
    () => v1('/v1/embeddings', { model, input: 'hi' }),
    () => request(chat.url).post('/api/conversations').set(bearer(stack.user.token)).send({ model }),
  ][i % 4]!();
  expect(reply.status).toBeLessThan(500);
}

describe('metric labels', () => {
  it(
    'stay a bounded set: 1,000 random model names add no series to /metrics',
    { timeout: 120_000 },
    async () => {
      // Warm up every path (status codes, routes) with a few names first.
      for (let i = 0; i < 8; i += 1) await askWith(randomModel(), i);
      for (let i = 0; i < 4; i += 1) await askWith('llama3.2', i);
      await series(); // the scrape itself is a series from the next one on
      const before = await series();
      for (let i = 0; i < 1000; i += 10)
        await Promise.all(Array.from({ length: 10 }, (_, j) => askWith(randomModel(), i + j)));
      const after = await series();
      expect(after.random).toEqual([]);
      expect(after.names.filter((name) => !before.names.includes(name))).toEqual([]);
      // A model the pool has keeps its own label.
      expect((await request(chat.url).get('/metrics')).text).toMatch(
        /corral_chat_tokens_total\{[^}]*model="llama3.2"/,
      );
    },
  );
});
