import { gzipSync } from 'node:zlib';
import type { OllamaSim } from '@corral/ollama-sim';
import { describe, expect, it } from 'vitest';
import { type TestGateway, chatBody, ndjsonLines, usePoolPerTest } from './helpers.js';

// The model routes are answered before express (service-kit's withDirectRoutes); these pin down
// that they are observed and guarded exactly like express's routes, and that compressed bodies
// still reach express's inflating parser.

const pool = usePoolPerTest();
const TOKEN = 'direct-routes-test-token-0123456789abcdef';

/** The current test's backends, to read their stats. */
let sims: OllamaSim[] = [];

async function start(env: Record<string, string> = {}): Promise<TestGateway> {
  sims = await pool.startSims(1, { models: ['llama3.2'] });
  return pool.startGateway(sims, { GATEWAY_SERVICE_TOKEN: TOKEN, ...env });
}

describe('the streamed model routes (answered before express)', () => {
  it('keep the caller’s request id, set nosniff, and count in http_request_duration_seconds by route', async () => {
    const gw = await start();
    const res = await fetch(`${gw.url}/api/chat?ignored=1`, {
      method: 'POST',
      headers: { ...gw.headers, 'content-type': 'application/json', 'x-request-id': 'trace-abc.123' },
      body: JSON.stringify(chatBody('hello')),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('trace-abc.123');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const lines = await ndjsonLines(res);
    expect(lines.at(-1)).toMatchObject({ done: true });

    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/api\/chat",status="200"\} 1\b/,
    );
    // Only the /metrics request itself is still in flight: the stream was counted out when it ended.
    expect(metrics).toMatch(/http_requests_in_flight 1\b/);
  });

  it('make up a request id when the caller’s is unusable, and put it in error bodies', async () => {
    const gw = await start();
    const res = await fetch(`${gw.url}/api/chat`, {
      method: 'POST',
      headers: { ...gw.headers, 'content-type': 'application/json', 'x-request-id': 'bad id with spaces' },
      body: '{"model": ',
    });
    expect(res.status).toBe(400);
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'malformed_json', requestId });
    expect(typeof body.error).toBe('string');
  });

  it('refuse a wrong service token in the family’s error shape, without reading the body', async () => {
    const gw = await start();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-the-token', 'content-type': 'application/json' },
      body: JSON.stringify(chatBody('hi')),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    // Corral's code in the problem fields; OpenAI's type and code for a refused credential in `error`.
    expect(await res.json()).toMatchObject({
      code: 'invalid_token',
      error: { type: 'authentication_error', code: 'invalid_api_key' },
    });
    expect(sims[0]?.stats().requests['POST /v1/chat/completions'] ?? 0).toBe(0);
  });

  it('answer 413 past BODY_LIMIT', async () => {
    const gw = await start({ BODY_LIMIT: '1kb' });
    const res = await fetch(`${gw.url}/api/chat`, {
      method: 'POST',
      headers: { ...gw.headers, 'content-type': 'application/json' },
      body: JSON.stringify(chatBody('x'.repeat(4096))),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'payload_too_large' });
  });

  it('pass a gzip-compressed body to express, which inflates it', async () => {
    const gw = await start();
    const res = await fetch(`${gw.url}/api/chat`, {
      method: 'POST',
      headers: { ...gw.headers, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(chatBody('compressed', { stream: false }))),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ model: 'llama3.2', done: true });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('leave other methods on the same path to express (405-less 404 problem)', async () => {
    const gw = await start();
    const res = await fetch(`${gw.url}/api/chat`, { headers: gw.headers });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'route_not_found' });
  });
});
