import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { expectedChatReply } from '@corral/ollama-sim';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createApiKey, useChatApiStack } from './helpers.js';

// POST /v1/chat/completions is answered before express for plain JSON bodies with a length, and by
// express otherwise (chunked, compressed, other charsets, too large): the answers must not differ.
const stack = useChatApiStack({ chat: { env: { BODY_LIMIT: '16kb' } }, users: ['user'] });
let apiKey: string;

beforeAll(async () => {
  apiKey = await createApiKey(stack.user);
});

const question = { model: 'llama3.2', messages: [{ role: 'user', content: 'Direct or not?' }] };
const reference = expectedChatReply(question);

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { choices?: Array<{ message: { content: string } }>; error?: { code: string; type: string } };
}

/** Sends `body` as written, chunked (no Content-Length) unless `length` is set. */
function rawPost(body: Buffer, headers: Record<string, string>, { length = false } = {}): Promise<RawAnswer> {
  const url = new URL('/v1/chat/completions', stack.chat.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(length ? { 'content-length': String(body.length) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as RawAnswer['body'],
          }),
        );
      },
    );
    req.on('error', reject);
    // Two writes: without a length, the body goes chunked.
    req.write(body.subarray(0, 5));
    req.end(body.subarray(5));
  });
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('/v1/chat/completions with and without express: happy path', () => {
  it('answers the same completion, with rate-limit and request-id headers, either way', async () => {
    const direct = await rawPost(json(question), { 'content-type': 'application/json' }, { length: true });
    const chunked = await rawPost(json(question), { 'content-type': 'application/json' });
    const gzipped = await rawPost(
      gzipSync(json(question)),
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      { length: true },
    );
    for (const answer of [direct, chunked, gzipped]) {
      expect(answer.status).toBe(200);
      expect(answer.body.choices?.[0]?.message.content).toBe(reference.text);
      expect(answer.headers['x-ratelimit-limit']).toBe('60');
      expect(answer.headers['x-request-id']).toEqual(expect.any(String));
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    }
  });

  it('streams the same chunks either way', async () => {
    const streamed = { ...question, stream: true };
    const direct = await request(stack.chat.url)
      .post('/v1/chat/completions')
      .set(bearer(apiKey))
      .send(streamed)
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => done(null, text));
      });
    expect(direct.status).toBe(200);
    expect(direct.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const events = (direct.body as string).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const text = events
      .slice(0, -1)
      .map(
        (event) =>
          JSON.parse(event.slice('data: '.length)) as { choices: Array<{ delta: { content?: string } }> },
      )
      .map((chunk) => chunk.choices[0]?.delta.content ?? '')
      .join('');
    expect(text).toBe(reference.text);
  });
});

describe('/v1/chat/completions with and without express: error paths', () => {
  it('refuses malformed and non-object JSON as malformed_json, and an empty body as validation_failed', async () => {
    const headers = { 'content-type': 'application/json' };
    for (const length of [true, false]) {
      const broken = await rawPost(Buffer.from('{"model": "llama3.2",'), headers, { length });
      expect(broken.status).toBe(400);
      expect(broken.body.error).toMatchObject({ code: 'malformed_json', type: 'invalid_request_error' });
      const bare = await rawPost(Buffer.from('"just a string"'), headers, { length });
      expect(bare.status).toBe(400);
      expect(bare.body.error?.code).toBe('malformed_json');
    }
    const empty = await request(stack.chat.url)
      .post('/v1/chat/completions')
      .set(bearer(apiKey))
      .set('content-type', 'application/json')
      .send('');
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('validation_failed');
  });

  it('answers 413 past BODY_LIMIT and 415 for another charset, in OpenAI’s shape', async () => {
    const large = { ...question, messages: [{ role: 'user', content: 'x'.repeat(20_000) }] };
    const tooLarge = await rawPost(json(large), { 'content-type': 'application/json' }, { length: true });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error?.code).toBe('payload_too_large');
    const latin1 = await rawPost(
      json(question),
      { 'content-type': 'application/json; charset=latin1' },
      { length: true },
    );
    expect(latin1.status).toBe(415);
    expect(latin1.body.error?.code).toBe('unsupported_media_type');
  });
});

describe('/v1/chat/completions with and without express: security', () => {
  it('answers 401 invalid_api_key with a Bearer challenge without credentials', async () => {
    const res = await request(stack.chat.url).post('/v1/chat/completions').send(question);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.body.error).toMatchObject({ code: 'invalid_api_key', type: 'authentication_error' });
  });

  it('sends browsers’ cross-origin calls through CORS when CORS_ALLOW_ORIGIN is set', async () => {
    const chat = await stack.startChat({ env: { CORS_ALLOW_ORIGIN: 'https://ui.example' } });
    const res = await request(chat.url)
      .post('/v1/chat/completions')
      .set(bearer(apiKey))
      .set('origin', 'https://ui.example')
      .send(question);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('https://ui.example');
  });
});
