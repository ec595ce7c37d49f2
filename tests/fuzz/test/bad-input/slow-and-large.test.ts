import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@corral/test-support';
import { expectErrorShape } from '../support/fuzz.js';
import { type User, call, send, signUp } from '../support/http.js';
import { fuzzStack } from '../support/shared-stack.js';
import { GATEWAY_SERVICE_TOKEN } from '../support/stack.js';

let user: User;

beforeAll(async () => {
  user = await signUp(fuzzStack().authUrl, 'slow');
});

describe('oversized bodies are 413', () => {
  it('auth and chat-api past BODY_LIMIT (1mb), with and without Content-Length', async () => {
    const big = Buffer.from(`{"email":"a@b.c","password":"${'x'.repeat(1_100_000)}"}`);
    const { authUrl, chatUrl } = fuzzStack();
    const cases = [
      { url: authUrl, path: '/api/auth/login', token: undefined },
      { url: authUrl, path: '/api/auth/api-keys', token: user.token },
      { url: chatUrl, path: '/api/conversations', token: user.token },
    ];
    for (const { url, path, token } of cases) {
      for (const chunked of [false, true]) {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (token) headers.authorization = `Bearer ${token}`;
        // An async iterable body has no length: undici sends it chunked.
        const body = chunked
          ? (async function* () {
              for (let i = 0; i < big.length; i += 64 * 1024) yield big.subarray(i, i + 64 * 1024);
            })()
          : big;
        const reply = await send(url, { method: 'POST', path, headers, body: body as Buffer });
        expect(reply.status, `${path} chunked=${chunked}: ${reply.text.slice(0, 200)}`).toBe(413);
        expectErrorShape(reply, 'problem', path);
      }
    }
  });

  it('chat-api import past IMPORT_BODY_LIMIT (20mb)', async () => {
    const body = Buffer.from(
      `{"format":"corral.conversations","version":1,"conversations":[],"pad":"${'x'.repeat(21 * 1024 * 1024)}"}`,
    );
    const reply = await send(fuzzStack().chatUrl, {
      method: 'POST',
      path: '/api/conversations/import',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
      body,
    });
    expect(reply.status).toBe(413);
    expectErrorShape(reply, 'problem', 'import');
  });

  it("the gateway past its BODY_LIMIT (32mb), in Ollama's shape", async () => {
    const body = Buffer.from(`{"model":"llama3.2","prompt":"${'x'.repeat(33 * 1024 * 1024)}"}`);
    const reply = await send(fuzzStack().gatewayUrl, {
      method: 'POST',
      path: '/api/generate',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY_SERVICE_TOKEN}` },
      body,
    });
    expect(reply.status).toBe(413);
    expectErrorShape(reply, 'ollama', '/api/generate');
  });
});

/** A client that trickles a request and never finishes it; resolves `closed` when the server hangs up. */
function slowClient(url: string, kind: 'headers' | 'body') {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  socket.on('error', () => undefined);
  let closedAt: number | undefined;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closedAt = Date.now();
      resolve();
    }),
  );
  const request =
    kind === 'headers'
      ? `GET /healthz HTTP/1.1\r\nHost: ${hostname}\r\nX-Slow: `
      : `POST /api/auth/login HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"email":`;
  let sent = 0;
  // One byte at a time, a byte every 200 ms (the trailer of a header that never ends).
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    socket.write(sent < request.length ? (request[sent] ?? 'x') : 'x');
    sent += 1;
  }, 200);
  return {
    closed,
    get closedAt() {
      return closedAt;
    },
    isOpen: () => !socket.destroyed && closedAt === undefined,
    destroy: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

describe('slow clients (slowloris)', () => {
  it(
    '200 sockets trickling headers or bodies do not stop others being served, and are cut after the timeouts',
    { timeout: 90_000 },
    async () => {
      const { authUrl, chatUrl, gatewayUrl, headersTimeoutMs, requestTimeoutMs } = fuzzStack();
      const urls = [authUrl, chatUrl, gatewayUrl];
      const clients = Array.from({ length: 200 }, (_, i) =>
        slowClient(urls[i % urls.length] ?? authUrl, i % 2 === 0 ? 'headers' : 'body'),
      );
      const opened = Date.now();
      try {
        // Meanwhile real requests are served by every service.
        await waitFor('the slow sockets to be connected and trickling', () => Date.now() - opened > 500);
        for (const url of urls)
          expect((await send(url, { method: 'GET', path: '/healthz' })).status).toBe(200);
        expect((await call(chatUrl, '/api/conversations', { token: user.token })).status).toBe(200);
        expect((await call(authUrl, '/api/auth/me', { token: user.token })).status).toBe(200);
        // Every slow socket is eventually closed by the server (Node checks its timeouts every 30 s).
        await waitFor(
          'every slow socket to be closed by the server',
          () => clients.every((c) => !c.isOpen()),
          {
            timeoutMs: Math.max(headersTimeoutMs, requestTimeoutMs) + 45_000,
            intervalMs: 250,
          },
        );
        const times = clients.map((c) => (c.closedAt ?? Date.now()) - opened).sort((a, b) => a - b);
        console.log(
          `slowloris: 200 slow sockets closed by the servers after ${times[0]}–${times.at(-1)} ms ` +
            `(HTTP_HEADERS_TIMEOUT_MS=${headersTimeoutMs}, HTTP_REQUEST_TIMEOUT_MS=${requestTimeoutMs})`,
        );
        // And the services still serve once they are gone.
        expect((await call(chatUrl, '/api/conversations', { token: user.token })).status).toBe(200);
      } finally {
        for (const client of clients) client.destroy();
      }
    },
  );
});
