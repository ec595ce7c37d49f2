import { backendPool } from '@corral/contracts';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { answersOf, bearer, expectProblem, type TestChat, useChatApiStack } from './helpers.js';

const TOKEN = 'gateway-admin-service-token-0123456789abcdef';

// The real inference-gateway, a process of its own, in front of two sims.
const stack = useChatApiStack({
  sims: ['simA', 'simB'],
  gatewayToken: TOKEN,
  admin: true,
  users: ['user'],
});

const chatAt = (gatewayUrl: string, token: string): Promise<TestChat> =>
  stack.startChat({ env: { GATEWAY_URL: gatewayUrl, GATEWAY_SERVICE_TOKEN: token } });

/** POSTs a pull and reads the NDJSON answer line by line, as the admin page does. */
async function startPull(token: string, body: unknown, signal?: AbortSignal) {
  const res = await fetch(`${stack.chat.url}/api/admin/models/pull`, {
    method: 'POST',
    headers: { ...bearer(token), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  async function nextLine(): Promise<Record<string, unknown> | undefined> {
    for (;;) {
      const newline = buffer.indexOf('\n');
      if (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        return JSON.parse(line) as Record<string, unknown>;
      }
      const { value, done } = await reader.read();
      if (done) return undefined;
      buffer += value;
    }
  }
  return { res, nextLine };
}

describe('admin model pool: happy path', () => {
  it('shows every backend the gateway routes to, with its state and models', async () => {
    const res = await request(stack.chat.url)
      .get('/api/admin/backends')
      .set(bearer(stack.admin.token))
      .expect(200);
    const pool = backendPool.parse(res.body);
    // The gateway's default strategy: a model where it is loaded, a conversation where its cache is.
    expect(pool.strategy).toBe('cache-aware');
    expect(pool.queue).toMatchObject({ depth: 0 });
    expect(pool.backends.map((b) => b.url).sort()).toEqual([stack.simA.url, stack.simB.url].sort());
    for (const backend of pool.backends) {
      expect(backend.state).toBe('healthy');
      expect(backend.models).toEqual(expect.arrayContaining([expect.stringMatching(/^llama3\.2/)]));
    }
  });

  it('relays pull progress as it comes, before the slowest backend is done, then the summary', async () => {
    // B accepts the pull and says nothing: A's progress must still reach the admin at once.
    stack.simB.setFailure({ mode: 'hang', paths: ['/api/pull'], times: 1 });
    const aborted = new AbortController();
    const hung = await startPull(stack.admin.token, { model: 'phi3' }, aborted.signal);
    expect(hung.res.status).toBe(200);
    expect(hung.res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const seen: Array<Record<string, unknown>> = [];
    for (let line = await hung.nextLine(); line; line = await hung.nextLine()) {
      seen.push(line);
      if (line.status === 'success') break;
    }
    expect(seen[0]).toMatchObject({ status: 'pulling manifest' });
    expect(seen.at(-1)).toMatchObject({ status: 'success', backend: expect.any(String) });
    expect(seen.some((line) => line.done === true)).toBe(false);
    // The admin closes the page: chat-api drops the gateway request, which gives up on the pull.
    aborted.abort();
    await expect
      .poll(async () => (await fetch(`${stack.gateway.url}/metrics`)).text())
      .toMatch(
        /http_request_duration_seconds_count\{[^}]*route="\/admin\/models\/pull"[^}]*status="499"\} 1/,
      );

    const full = await startPull(stack.admin.token, { model: 'phi3' });
    const lines: Array<Record<string, unknown>> = [];
    for (let line = await full.nextLine(); line; line = await full.nextLine()) lines.push(line);
    expect(lines.at(-1)).toMatchObject({
      status: 'success',
      model: 'phi3',
      done: true,
      backends: [{ status: 'success' }, { status: 'success' }],
      skipped: [],
    });

    // Each backend's inventory is read again as its pull succeeds: the model shows at once.
    const pool = backendPool.parse(
      (await request(stack.chat.url).get('/api/admin/backends').set(bearer(stack.admin.token)).expect(200))
        .body,
    );
    for (const backend of pool.backends) {
      expect(backend.models).toEqual(expect.arrayContaining([expect.stringMatching(/^phi3/)]));
    }
  });
});

describe('admin model pool: error paths', () => {
  it('refuses a pull without a model before asking the gateway', async () => {
    const before = await answersOf(stack.gateway.url);
    const res = await request(stack.chat.url)
      .post('/api/admin/models/pull')
      .set(bearer(stack.admin.token))
      .send({ insecure: 'yes' });
    expectProblem(res, 400, 'validation_failed');
    expect(JSON.stringify(res.body.errors)).toContain('model');
    expect(await answersOf(stack.gateway.url)).toEqual(before);
  });

  it('answers 503 with Retry-After when the gateway has no healthy backend to pull onto', async () => {
    const deadSim = await stack.startSim();
    const lonely = await stack.spawnGateway([deadSim], TOKEN, { HEALTH_INTERVAL_MS: '100' });
    // Its only backend stops answering and is ejected at the next failed check.
    deadSim.setFailure({ mode: 'refuse' });
    await expect
      .poll(async () => (await fetch(`${lonely.url}/readyz`)).status, { timeout: 15_000 })
      .toBe(503);
    const other = await chatAt(lonely.url, TOKEN);
    const res = await request(other.url).post('/api/admin/models/pull').set(bearer(stack.admin.token)).send({
      model: 'phi3',
    });
    expectProblem(res, 503, 'service_unavailable');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.body.detail).toContain('no healthy backend');
  });

  it('ends the progress with an error line when the gateway dies mid-pull', async () => {
    const slowSim = await stack.startSim();
    const doomed = await stack.spawnGateway([stack.simA, slowSim], TOKEN);
    const other = await chatAt(doomed.url, TOKEN);
    slowSim.setFailure({ mode: 'hang', paths: ['/api/pull'] });
    const res = await fetch(`${other.url}/api/admin/models/pull`, {
      method: 'POST',
      headers: { ...bearer(stack.admin.token), 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'gemma2' }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('"status":"success"')) {
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`the pull ended before any backend succeeded:\n${text}`);
      text += chunk.value;
    }
    await doomed.kill();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
    const last = JSON.parse(text.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(last).toEqual({ error: 'the inference gateway dropped the pull', done: true });
  });

  it('says plainly when chat-api’s service token is wrong: 502 naming GATEWAY_SERVICE_TOKEN', async () => {
    const misconfigured = await chatAt(stack.gateway.url, 'not-the-gateway-token-0123456789abcdef');
    const backends = await request(misconfigured.url)
      .get('/api/admin/backends')
      .set(bearer(stack.admin.token));
    expectProblem(backends, 502, 'bad_gateway');
    expect(backends.body.detail).toContain('GATEWAY_SERVICE_TOKEN');
    const pull = await request(misconfigured.url)
      .post('/api/admin/models/pull')
      .set(bearer(stack.admin.token))
      .send({ model: 'phi3' });
    expectProblem(pull, 502, 'bad_gateway');
    expect(pull.body.detail).toContain('GATEWAY_SERVICE_TOKEN');
  });

  it('answers 502 when the gateway cannot be reached', async () => {
    const unreachable = await chatAt('http://127.0.0.1:1', TOKEN);
    const res = await request(unreachable.url).get('/api/admin/backends').set(bearer(stack.admin.token));
    expectProblem(res, 502, 'bad_gateway');
  });
});

describe('admin model pool: security', () => {
  it('answers 401 without a token and 403 to a user who is not an admin, never calling the gateway', async () => {
    const before = await answersOf(stack.gateway.url);
    expectProblem(await request(stack.chat.url).get('/api/admin/backends'), 401, 'unauthorized');
    expectProblem(
      await request(stack.chat.url).post('/api/admin/models/pull').send({ model: 'phi3' }),
      401,
      'unauthorized',
    );
    expectProblem(
      await request(stack.chat.url).get('/api/admin/backends').set(bearer(stack.user.token)),
      403,
      'forbidden',
    );
    expectProblem(
      await request(stack.chat.url)
        .post('/api/admin/models/pull')
        .set(bearer(stack.user.token))
        .send({ model: 'phi3' }),
      403,
      'forbidden',
    );
    expect(await answersOf(stack.gateway.url)).toEqual(before);
  });
});
