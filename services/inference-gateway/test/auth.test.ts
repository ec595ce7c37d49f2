import { AppError } from '@corral/service-kit';
import { type OllamaSim, expectedChatReply } from '@corral/ollama-sim';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestGateway, chatBody, startGateway, startSims } from './helpers.js';

const SERVICE_TOKEN = 'gateway-service-token-for-tests-0123456789';
let sims: OllamaSim[];
let gateway: TestGateway;

/** Stands in for auth-client's verifyAccessToken + role check (see src/auth.ts adminVerifierFrom). */
async function verifyAdminToken(token: string): Promise<boolean> {
  if (token === 'auth-is-down') throw new AppError('service_unavailable', 'auth service unreachable');
  return token === 'admin-access-token';
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  sims = await startSims(1, { models: ['llama3.2', 'nomic-embed-text'] });
  gateway = await startGateway(sims, { GATEWAY_SERVICE_TOKEN: SERVICE_TOKEN }, { verifyAdminToken });
});

afterAll(async () => {
  await gateway.close();
  await Promise.all(sims.map((sim) => sim.close()));
});

describe('with GATEWAY_SERVICE_TOKEN: callers that send it', () => {
  it('the ollama npm client works through its headers option (chat stream, list, embed)', async () => {
    const ollama = new Ollama({ host: gateway.url, headers: bearer(SERVICE_TOKEN) });
    const messages = [{ role: 'user', content: 'authenticated hello' }];
    let text = '';
    for await (const part of await ollama.chat({ model: 'llama3.2', messages, stream: true })) {
      text += part.message.content;
    }
    expect(text).toBe(expectedChatReply({ model: 'llama3.2', messages }).text);
    expect((await ollama.list()).models.map((m) => m.name)).toContain('llama3.2:latest');
    expect((await ollama.embed({ model: 'nomic-embed-text', input: 'x' })).embeddings).toHaveLength(1);
  });

  it('the openai SDK works with the token as its apiKey', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: SERVICE_TOKEN });
    const completion = await openai.chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]?.message.content).toBeTruthy();
  });

  it('/admin/* accepts the service token', async () => {
    const res = await fetch(`${gateway.url}/admin/backends`, { headers: bearer(SERVICE_TOKEN) });
    expect(res.status).toBe(200);
  });

  it('/admin/* accepts an admin access token', async () => {
    const res = await fetch(`${gateway.url}/admin/backends`, { headers: bearer('admin-access-token') });
    expect(res.status).toBe(200);
  });
});

describe('with GATEWAY_SERVICE_TOKEN: callers that do not', () => {
  it('no token: 401 with a Bearer challenge, in the caller’s wire shape', async () => {
    const chatsBefore = sims[0]?.stats().requests['POST /api/chat'] ?? 0;
    const chat = await fetch(`${gateway.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify(chatBody('sneaky')),
    });
    expect(chat.status).toBe(401);
    expect(chat.headers.get('www-authenticate')).toBe('Bearer');
    expect(await chat.json()).toMatchObject({ status: 401, code: 'unauthorized', error: expect.any(String) });
    expect(sims[0]?.stats().requests['POST /api/chat'] ?? 0).toBe(chatsBefore);

    const models = await fetch(`${gateway.url}/v1/models`);
    expect(models.status).toBe(401);
    // Corral's code in the problem fields; OpenAI's type and code in `error`, as OpenAI's SDKs read them.
    expect(await models.json()).toMatchObject({
      code: 'unauthorized',
      error: { type: 'authentication_error', code: 'invalid_api_key' },
    });
    expect((await fetch(`${gateway.url}/api/tags`)).status).toBe(401);
    expect((await fetch(`${gateway.url}/`)).status).toBe(401);
  });

  it('a wrong token: 401 invalid_token; the ollama client reports it', async () => {
    const ollama = new Ollama({ host: gateway.url, headers: bearer(`${SERVICE_TOKEN}x`) });
    await expect(ollama.list()).rejects.toMatchObject({ status_code: 401 });
    const res = await fetch(`${gateway.url}/api/tags`, { headers: { authorization: 'Bearer nope' } });
    expect(await res.json()).toMatchObject({ code: 'invalid_token' });
    const basic = await fetch(`${gateway.url}/api/tags`, {
      headers: { authorization: `Basic ${SERVICE_TOKEN}` },
    });
    expect(basic.status).toBe(401);
  });

  it('/admin/*: no token, a user’s token, or a wrong one → 401 problem+json', async () => {
    for (const headers of [{}, bearer('user-access-token'), bearer('x')]) {
      const res = await fetch(`${gateway.url}/admin/backends`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({
        status: 401,
        type: expect.stringMatching(/^urn:corral:error:/),
      });
    }
    const drain = await fetch(`${gateway.url}/admin/backends/x/drain`, { method: 'POST' });
    expect(drain.status).toBe(401);
    const pull = await fetch(`${gateway.url}/admin/models/pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer('user-access-token') },
      body: JSON.stringify({ model: 'llama3.2' }),
    });
    expect(pull.status).toBe(401);
    expect(sims[0]?.stats().requests['POST /api/pull'] ?? 0).toBe(0);
  });

  it('/admin/*: auth being unreachable is 503, not a silent 401', async () => {
    const res = await fetch(`${gateway.url}/admin/backends`, { headers: bearer('auth-is-down') });
    expect(res.status).toBe(503);
  });

  it('probes and /metrics stay open (kubelet and Prometheus send no token)', async () => {
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/metrics`)).status).toBe(200);
    expect([200, 503]).toContain((await fetch(`${gateway.url}/readyz`)).status);
  });
});

describe('configuration', () => {
  it('production refuses to start without GATEWAY_SERVICE_TOKEN, or with a short one', async () => {
    await expect(startGateway(sims, { NODE_ENV: 'production' })).rejects.toThrow(/GATEWAY_SERVICE_TOKEN/);
    await expect(
      startGateway(sims, { NODE_ENV: 'production', GATEWAY_SERVICE_TOKEN: 'short-token' }),
    ).rejects.toThrow(/GATEWAY_SERVICE_TOKEN: must be at least 32 characters/);
  });
});
