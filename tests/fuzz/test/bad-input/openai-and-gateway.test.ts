import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fields, expectAlive, snapshotUser } from '../support/fuzz.js';
import { type User, call, send, signUp } from '../support/http.js';
import { fuzzAuthorization, fuzzInvalidBodies, fuzzQueries } from '../support/properties.js';
import { fuzzStack, serviceUrls, snapshotDb } from '../support/shared-stack.js';
import { GATEWAY_SERVICE_TOKEN } from '../support/stack.js';

const completionFields: Fields = {
  model: { kind: 'string', max: 200 },
  messages: { kind: 'array' },
  stream: { kind: 'boolean' },
  temperature: { kind: 'nullableNumber' },
  top_p: { kind: 'nullableNumber' },
  max_tokens: { kind: 'nullableNumber' },
  seed: { kind: 'nullableNumber' },
  user: { kind: 'string' },
};
const embeddingFields: Fields = {
  model: { kind: 'string', max: 200 },
  encoding_format: { kind: 'string' },
  dimensions: { kind: 'number' },
  user: { kind: 'string' },
};

let victim: User;
let apiKey: string;
let before: unknown;

beforeAll(async () => {
  victim = await signUp(fuzzStack().authUrl, 'v1-victim');
  const key = await call(fuzzStack().authUrl, '/api/auth/api-keys', {
    token: victim.token,
    body: { name: 'v1' },
  });
  apiKey = (key.json as { key: string }).key;
  before = await snapshotUser(victim.id, snapshotDb());
});

afterAll(async () => {
  if (!victim) return;
  const after = (await snapshotUser(victim.id, snapshotDb())) as { apiKeys: Array<Record<string, unknown>> };
  // Using the key (as every request here does) moves its last-used time, nothing else.
  for (const key of [...after.apiKeys, ...(before as typeof after).apiKeys]) delete key.last_used_at;
  expect(after).toEqual(before);
});

describe("chat-api /v1: invalid bodies are 4xx in OpenAI's error shape", () => {
  it('chat completions and embeddings, with an API key', { timeout: 90_000 }, async () => {
    const chat = fuzzStack().chatUrl;
    await fuzzInvalidBodies(chat, {
      method: 'POST',
      path: '/v1/chat/completions',
      fields: completionFields,
      shape: 'openai',
      token: apiKey,
      numRuns: 80,
      // Parser errors (malformed JSON, charset, size) have their own test below.
      parsableOnly: true,
    });
    await fuzzInvalidBodies(chat, {
      method: 'POST',
      path: '/v1/embeddings',
      fields: embeddingFields,
      shape: 'openai',
      token: apiKey,
      parsableOnly: true,
    });
    await expectAlive(serviceUrls());
  });

  it('chat-api /v1: malformed JSON, a bad charset and an oversized body are answered in OpenAI’s error shape', async () => {
    const chat = fuzzStack().chatUrl;
    const bodies: Array<[string, string, Buffer]> = [
      ['malformed JSON', 'application/json', Buffer.from('{"model":')],
      ['unsupported charset', 'application/json; charset=latin1', Buffer.from('{"model":"llama3.2"}')],
      [
        'oversized body (> BODY_LIMIT 1mb)',
        'application/json',
        Buffer.from(`{"model":"${'x'.repeat(1_100_000)}"}`),
      ],
    ];
    for (const [what, type, body] of bodies) {
      const reply = await send(chat, {
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': type },
        body,
      });
      expect.soft(reply.status, what).toBeGreaterThanOrEqual(400);
      expect.soft(reply.status, what).toBeLessThan(500);
      expect
        .soft((reply.json as { error?: unknown } | undefined)?.error, `${what}: ${reply.text.slice(0, 200)}`)
        .toMatchObject({
          message: expect.any(String),
          type: 'invalid_request_error',
        });
    }
  });

  it('hostile queries and Authorization headers', async () => {
    const chat = fuzzStack().chatUrl;
    await fuzzQueries(chat, {
      path: '/v1/models',
      queryNames: ['limit', 'after'],
      shape: 'openai',
      token: apiKey,
      numRuns: 30,
    });
    await fuzzAuthorization(
      chat,
      { method: 'POST', path: '/v1/chat/completions', body: '{"model":"llama3.2","messages":[]}' },
      'openai',
    );
  });
});

describe("inference-gateway: invalid bodies are 4xx in the caller's error shape", () => {
  it('the model-routed Ollama and OpenAI routes', { timeout: 90_000 }, async () => {
    const gateway = fuzzStack().gatewayUrl;
    const routes = [
      ['/api/chat', 'ollama'],
      ['/api/generate', 'ollama'],
      ['/api/embed', 'ollama'],
      ['/api/embeddings', 'ollama'],
      ['/api/show', 'ollama'],
      ['/v1/chat/completions', 'openai'],
      ['/v1/embeddings', 'openai'],
    ] as const;
    for (const [path, shape] of routes) {
      await fuzzInvalidBodies(gateway, {
        method: 'POST',
        path,
        // Only the model is the gateway's business; everything else is passed to the backend.
        fields:
          path === '/api/show'
            ? { model: { kind: 'string' }, name: { kind: 'string' } }
            : { model: { kind: 'string' } },
        shape,
        token: GATEWAY_SERVICE_TOKEN,
        numRuns: 40,
      });
    }
    await fuzzInvalidBodies(gateway, {
      method: 'POST',
      path: '/admin/models/pull',
      fields: { model: { kind: 'string' }, insecure: { kind: 'boolean' } },
      shape: 'problem',
      token: GATEWAY_SERVICE_TOKEN,
      numRuns: 40,
    });
    await expectAlive(serviceUrls());
  });

  it('pool views with hostile queries never answer 5xx', async () => {
    const gateway = fuzzStack().gatewayUrl;
    for (const [path, shape] of [
      ['/api/tags', 'ollama'],
      ['/api/version', 'ollama'],
      ['/api/ps', 'ollama'],
      ['/v1/models', 'openai'],
      ['/v1/models/llama3.2', 'openai'],
      ['/admin/backends', 'problem'],
    ] as const) {
      await fuzzQueries(gateway, {
        path,
        queryNames: ['model', 'name'],
        shape,
        token: GATEWAY_SERVICE_TOKEN,
        numRuns: 20,
      });
    }
  });

  it('hostile Authorization headers are 401', async () => {
    const gateway = fuzzStack().gatewayUrl;
    await fuzzAuthorization(
      gateway,
      { method: 'POST', path: '/api/chat', body: '{"model":"llama3.2"}' },
      'ollama',
      30,
    );
    await fuzzAuthorization(gateway, { method: 'GET', path: '/v1/models' }, 'openai', 20);
    await fuzzAuthorization(gateway, { method: 'GET', path: '/admin/backends' }, 'problem', 30);
  });

  it("a body with a bad Content-Encoding is a 400 in Ollama's shape", async () => {
    const reply = await send(fuzzStack().gatewayUrl, {
      method: 'POST',
      path: '/api/chat',
      headers: {
        authorization: `Bearer ${GATEWAY_SERVICE_TOKEN}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      body: Buffer.from('{"model":"llama3.2"} not gzip'),
    });
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect((reply.json as { error?: unknown }).error).toEqual(expect.any(String));
  });
});
