import { type ServerResponse, request as httpRequest } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody, readJsonBody } from '../src/body.js';
import { AppError } from '../src/errors.js';
import { type DirectRoute, createHttpApp, withDirectRoutes } from '../src/http.js';
import { type RunningServer, startServer } from '../src/server.js';
import { openAiRenderer, renderOllamaError } from '../src/wire-errors.js';
import { kitWithCapturedLogs } from './helpers.js';

const LIMIT = 1024;
const running: RunningServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.shutdown('test over');
});

function sendJson(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

const routes: DirectRoute[] = [
  {
    method: 'POST',
    path: '/json',
    handle: async (req, res) => sendJson(res, { body: (await readJsonBody(req, { limit: LIMIT })) ?? null }),
  },
  {
    method: 'POST',
    path: '/raw',
    handle: async (req, res) => {
      const body = await readBody(req, { limit: LIMIT });
      sendJson(res, { bytes: body?.length ?? null });
    },
  },
  {
    method: 'POST',
    path: '/openai',
    renderError: openAiRenderer((error) => ({ error: { message: error.message, code: error.code } })),
    handle: () => {
      throw new AppError('rate_limited', 'Slow down', { headers: { 'Retry-After': '3' } });
    },
  },
  {
    method: 'POST',
    path: '/ollama',
    renderError: renderOllamaError,
    handle: () => Promise.reject(new AppError('model_not_found', 'model "x" not found')),
  },
  {
    method: 'POST',
    path: '/boom',
    handle: () => Promise.reject(new Error('database password=hunter2 exploded')),
  },
];

async function start(env: Record<string, string> = {}) {
  const { kit, logLines } = kitWithCapturedLogs({ HOST: '127.0.0.1', SHUTDOWN_GRACE_MS: '100', ...env });
  const app = createHttpApp(kit, (express) => {
    express.post('/json-by-express', (_req, res) => {
      res.json({ express: true });
    });
  });
  const server = await startServer(kit, withDirectRoutes(kit, app, routes), {
    port: 0,
    handleSignals: false,
  });
  running.push(server);
  return { url: server.url, logLines };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** Posts `body` as given: with a Content-Length when `length`, else chunked (two writes). */
function post(
  url: string,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
  { length = true } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      new URL(path, url),
      {
        method: 'POST',
        headers: { ...(length ? { 'content-length': String(body.length) } : {}), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
          });
        });
      },
    );
    // A server that answers before reading the whole body may close the socket under the upload.
    req.on('error', reject);
    req.write(body.subarray(0, 3));
    req.end(body.subarray(3));
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };
const question = { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] };
const questionBytes = Buffer.from(JSON.stringify(question));

describe('direct routes: happy path', () => {
  it('read the same JSON plain, chunked, gzip, deflate and br', async () => {
    const { url } = await start();
    const answers = await Promise.all([
      post(url, '/json', questionBytes, JSON_TYPE),
      post(url, '/json', questionBytes, JSON_TYPE, { length: false }),
      post(url, '/json', gzipSync(questionBytes), { ...JSON_TYPE, 'content-encoding': 'gzip' }),
      post(url, '/json', deflateSync(questionBytes), { ...JSON_TYPE, 'content-encoding': 'deflate' }),
      post(url, '/json', brotliCompressSync(questionBytes), { ...JSON_TYPE, 'content-encoding': 'BR' }),
    ]);
    for (const answer of answers) expect(answer).toMatchObject({ status: 200, body: { body: question } });
  });

  it('read JSON in another UTF charset and application/*+json, and leave other types unread', async () => {
    const { url } = await start();
    const utf16 = Buffer.from(`\ufeff${JSON.stringify(question)}`, 'utf16le');
    expect(
      (await post(url, '/json', utf16, { 'content-type': 'application/json; charset=UTF-16LE' })).body,
    ).toEqual({ body: question });
    expect(
      (await post(url, '/json', questionBytes, { 'content-type': 'application/merge-patch+json' })).body,
    ).toEqual({ body: question });
    expect((await post(url, '/json', questionBytes, { 'content-type': 'text/plain' })).body).toEqual({
      body: null,
    });
    expect((await post(url, '/json', Buffer.alloc(0), JSON_TYPE)).body).toEqual({ body: {} });
  });

  it('match paths as express does (any case, one trailing slash, query ignored); the rest go to express', async () => {
    const { url } = await start();
    for (const path of ['/JSON', '/json/', '/json?x=1']) {
      expect((await post(url, path, questionBytes, JSON_TYPE)).body).toEqual({ body: question });
    }
    expect((await post(url, '/json-by-express', questionBytes, JSON_TYPE)).body).toEqual({ express: true });
  });
});

describe('direct routes: error paths', () => {
  it('refuse a body past the limit, declared, chunked or once inflated, as 413 problem+json', async () => {
    const { url } = await start();
    const big = Buffer.from(JSON.stringify({ pad: 'x'.repeat(LIMIT) }));
    const answers = [
      await post(url, '/raw', big, JSON_TYPE),
      await post(url, '/raw', big, JSON_TYPE, { length: false }),
      // Small on the wire, past the limit once inflated.
      await post(url, '/raw', gzipSync(Buffer.alloc(64 * LIMIT)), { 'content-encoding': 'gzip' }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(413);
      expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(answer.body).toMatchObject({
        code: 'payload_too_large',
        requestId: answer.headers['x-request-id'],
      });
    }
  });

  it('refuse another encoding or charset as 415, a broken compressed body as 400', async () => {
    const { url } = await start();
    const compress = await post(url, '/raw', questionBytes, { 'content-encoding': 'compress' });
    expect(compress).toMatchObject({ status: 415, body: { code: 'unsupported_media_type' } });
    const latin1 = await post(url, '/json', questionBytes, {
      'content-type': 'application/json; charset=latin1',
    });
    expect(latin1).toMatchObject({ status: 415, body: { code: 'unsupported_media_type' } });
    const notGzip = await post(url, '/raw', questionBytes, { 'content-encoding': 'gzip' });
    expect(notGzip).toMatchObject({ status: 400, body: { code: 'bad_request' } });
  });

  it('refuse malformed JSON and bare values as malformed_json', async () => {
    const { url } = await start();
    for (const text of ['{"model":', '"just a string"', '42']) {
      const answer = await post(url, '/json', Buffer.from(text), JSON_TYPE);
      expect(answer).toMatchObject({ status: 400, body: { code: 'malformed_json' } });
    }
  });

  it('answer in the route’s wire format, with the error’s headers', async () => {
    const { url } = await start();
    const openai = await post(url, '/openai', questionBytes, JSON_TYPE);
    expect(openai.status).toBe(429);
    expect(openai.headers['retry-after']).toBe('3');
    expect(openai.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(openai.body).toEqual({ error: { message: 'Slow down', code: 'rate_limited' } });
    const ollama = await post(url, '/ollama', questionBytes, JSON_TYPE);
    expect(ollama.status).toBe(404);
    expect(ollama.body).toMatchObject({ error: 'model "x" not found', code: 'model_not_found' });
  });

  it('log an unexpected error with its stack and answer 500 without it', async () => {
    const { url, logLines } = await start();
    const answer = await post(url, '/boom', questionBytes, JSON_TYPE);
    expect(answer).toMatchObject({ status: 500, body: { code: 'internal' } });
    expect(JSON.stringify(answer.body)).not.toContain('hunter2');
    const logged = logLines().find((line) => line.message === 'unhandled error');
    expect(logged).toMatchObject({ path: '/boom', method: 'POST' });
    expect(JSON.stringify(logged)).toContain('exploded');
  });
});

describe('direct routes: security', () => {
  it('answer cross-origin calls only for the origins CORS_ALLOW_ORIGIN lists', async () => {
    const closed = await start();
    const origin = { ...JSON_TYPE, origin: 'https://ui.example' };
    expect(
      (await post(closed.url, '/json', questionBytes, origin)).headers['access-control-allow-origin'],
    ).toBe(undefined);
    const open = await start({ CORS_ALLOW_ORIGIN: 'https://ui.example' });
    const allowed = await post(open.url, '/json', questionBytes, origin);
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://ui.example');
    expect(allowed.headers['access-control-expose-headers']).toContain('X-Request-Id');
  });
});
