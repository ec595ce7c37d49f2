// Issue 21, finding 1 (chat-api side): an API key's scopes hold on every chat-api route. The
// default key (`inference`) generates — /v1 and the conversation API's generation routes — but
// cannot read or change the owner's history; that takes a session or the `account` scope an admin
// grants. A key without `inference` generates nothing. Finding 13: a body that is not JSON is 415.
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type TestUser,
  bearer,
  createApiKey,
  createConversation,
  expectProblem,
  openSse,
  readUntil,
  signInAdmin,
  signUp,
  useChatApiStack,
} from './helpers.js';

/** A 2×2 PNG: the one body on the conversation API that is not JSON (raw image bytes). */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==',
  'base64',
);

const stack = useChatApiStack({ chat: { env: { RATE_LIMIT_PER_MINUTE: '0' } } });
const api = () => request(stack.chat.url);

let user: TestUser;
let conversationId: string;
let inferenceKey: string;

/** A key an admin issues for `user` with exactly `scopes`. */
async function adminKey(scopes: string[]): Promise<string> {
  const admin = await signInAdmin();
  const res = await request(inject('authUrl'))
    .post(`/api/auth/admin/users/${user.id}/api-keys`)
    .set(bearer(admin.token))
    .send({ name: `scoped-${randomBytes(3).toString('hex')}`, scopes });
  expect(res.status, res.text).toBe(201);
  return (res.body as { key: string }).key;
}

/** A valid export file with one conversation of one message. */
function exportFile(title: string) {
  const at = new Date().toISOString();
  const messageId = randomUUID();
  return {
    format: 'corral.conversations',
    version: 1,
    exportedAt: at,
    conversations: [
      {
        id: randomUUID(),
        title,
        model: 'llama3.2',
        systemPrompt: null,
        tags: [],
        pinned: false,
        archived: false,
        currentMessageId: messageId,
        createdAt: at,
        updatedAt: at,
        messages: [
          {
            id: messageId,
            parentId: null,
            role: 'user',
            content: 'imported question',
            model: null,
            status: 'complete',
            error: null,
            promptTokens: null,
            completionTokens: null,
            durationMs: null,
            createdAt: at,
            updatedAt: at,
          },
        ],
      },
    ],
  };
}

/** The owner's history and account: a session, or the `account` scope. */
const accountRoutes = () => [
  { method: 'get', path: '/api/conversations' },
  { method: 'get', path: '/api/conversations?q=secret' },
  { method: 'get', path: `/api/conversations/${conversationId}` },
  { method: 'get', path: `/api/conversations/${conversationId}/messages?branch=all` },
  { method: 'patch', path: `/api/conversations/${conversationId}`, body: { title: 'renamed by a key' } },
  { method: 'delete', path: `/api/conversations/${conversationId}` },
  { method: 'get', path: '/api/conversations/export' },
  { method: 'get', path: `/api/conversations/${conversationId}/export` },
  { method: 'post', path: '/api/conversations/import', body: exportFile('planted by a key') },
  { method: 'get', path: '/api/usage' },
  { method: 'get', path: `/api/conversations/${conversationId}/attachments/${randomUUID()}` },
];

function send(method: string, path: string, token: string, body?: unknown) {
  const req = (api() as unknown as Record<string, (path: string) => request.Test>)[method]!(path).set(
    bearer(token),
  );
  return body === undefined ? req : req.send(body as object);
}

beforeAll(async () => {
  user = await signUp();
  conversationId = (await createConversation(stack.chat, user, { title: 'secret plans' })).id;
  inferenceKey = await createApiKey(user);
});

describe('API-key scopes on chat-api', () => {
  it('an inference-only key generates through /v1 and the conversation API', async () => {
    expect((await api().get('/v1/models').set(bearer(inferenceKey))).status).toBe(200);
    expect((await api().get('/api/models').set(bearer(inferenceKey))).status).toBe(200);
    const completion = await api()
      .post('/v1/chat/completions')
      .set(bearer(inferenceKey))
      .send({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.status, completion.text).toBe(200);

    // Creating a conversation to send into, sending, regenerating and stopping are generation.
    const created = await api().post('/api/conversations').set(bearer(inferenceKey)).send({});
    expect(created.status, created.text).toBe(201);
    const id = (created.body as { conversation: { id: string } }).conversation.id;
    const stream = await openSse(`${stack.chat.url}/api/conversations/${id}/messages`, inferenceKey, {
      content: 'hello from a key',
    });
    expect(stream.status).toBe(200);
    const { event: start } = await readUntil(stream, 'start');
    const replyId = (JSON.parse(start.data) as { assistantMessage: { id: string } }).assistantMessage.id;
    const { event: done } = await readUntil(stream, 'done');
    expect(JSON.parse(done.data)).toMatchObject({ status: 'complete' });
    const again = await openSse(
      `${stack.chat.url}/api/conversations/${id}/messages/${replyId}/regenerate`,
      inferenceKey,
      {},
    );
    expect((await readUntil(again, 'done')).event.event).toBe('done');
    const stop = await api().post(`/api/conversations/${id}/stop`).set(bearer(inferenceKey));
    expect(stop.status, stop.text).toBe(200);
    // Following a reply (the resume route), a new chat with its first message, attaching an image.
    const follow = await api()
      .get(`/api/conversations/${id}/messages/${replyId}/stream`)
      .set(bearer(inferenceKey));
    expect(follow.status, follow.text).toBe(200);
    const started = await openSse(`${stack.chat.url}/api/conversations/start`, inferenceKey, {
      content: 'a new chat from a key',
    });
    expect(started.status).toBe(200);
    expect((await readUntil(started, 'done')).event.event).toBe('done');
    const upload = await api()
      .post(`/api/conversations/${id}/attachments`)
      .set(bearer(inferenceKey))
      .set('Content-Type', 'image/png')
      .send(PNG);
    expect(upload.status, upload.text).toBe(201);
  });

  it('an inference-only key reads, changes, exports and imports nothing of the history', async () => {
    const failures: string[] = [];
    for (const route of accountRoutes()) {
      const res = await send(route.method, route.path, inferenceKey, route.body);
      if (res.status !== 403) failures.push(`${route.method} ${route.path} → ${res.status}`);
      else {
        expectProblem(res, 403, 'forbidden');
        expect(res.headers['www-authenticate']).toBe('Bearer error="insufficient_scope", scope="account"');
      }
    }
    expect(failures).toEqual([]);
    // Nothing changed: the owner's session still sees the conversation as it was, and no import.
    const list = await api().get('/api/conversations').set(bearer(user.token)).expect(200);
    const titles = (list.body as { items: { id: string; title: string }[] }).items.map((c) => c.title);
    expect(titles).toContain('secret plans');
    expect(titles).not.toContain('planted by a key');
    expect(titles).not.toContain('renamed by a key');
  });

  it('a key an admin granted the account scope may use those routes', async () => {
    const accountKey = await adminKey(['inference', 'account']);
    const list = await api().get('/api/conversations').set(bearer(accountKey));
    expect(list.status, list.text).toBe(200);
    const messages = await api().get(`/api/conversations/${conversationId}/messages`).set(bearer(accountKey));
    expect(messages.status).toBe(200);
    expect((await api().get('/api/conversations/export').set(bearer(accountKey))).status).toBe(200);
    expect((await api().get('/api/usage').set(bearer(accountKey))).status).toBe(200);
    const imported = await api()
      .post('/api/conversations/import')
      .set(bearer(accountKey))
      .send(exportFile('imported with the account scope'));
    expect(imported.status, imported.text).toBe(200);
  });

  it('a key without the inference scope generates nothing', async () => {
    const keysOnly = await adminKey(['keys']);
    const v1 = await api()
      .post('/v1/chat/completions')
      .set(bearer(keysOnly))
      .send({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });
    expect(v1.status).toBe(403);
    expect(v1.body).toMatchObject({ error: { type: 'permission_error' } });
    expect((await api().get('/v1/models').set(bearer(keysOnly))).status).toBe(403);
    expect((await api().get('/api/models').set(bearer(keysOnly))).status).toBe(403);
    const send = await api()
      .post(`/api/conversations/${conversationId}/messages`)
      .set(bearer(keysOnly))
      .send({ content: 'hi' });
    expectProblem(send, 403, 'forbidden');
    expect((await api().post('/api/conversations').set(bearer(keysOnly)).send({})).status).toBe(403);
    const start = await api().post('/api/conversations/start').set(bearer(keysOnly)).send({ content: 'hi' });
    expectProblem(start, 403, 'forbidden');
    const upload = await api()
      .post(`/api/conversations/${conversationId}/attachments`)
      .set(bearer(keysOnly))
      .set('Content-Type', 'image/png')
      .send(PNG);
    expectProblem(upload, 403, 'forbidden');
  });
});

describe('bodies that are not JSON (finding 13)', () => {
  it('are 415 problem+json on the conversation API, in OpenAI’s shape under /v1', async () => {
    const asText = await api()
      .post('/api/conversations')
      .set(bearer(user.token))
      .set('Content-Type', 'text/plain')
      .send('{"title":"as text"}');
    expectProblem(asText, 415, 'unsupported_media_type');
    const asForm = await api()
      .post(`/api/conversations/${conversationId}/messages`)
      .set(bearer(user.token))
      .type('form')
      .send({ content: 'from a form' });
    expectProblem(asForm, 415, 'unsupported_media_type');
    const patch = await api()
      .patch(`/api/conversations/${conversationId}`)
      .set(bearer(user.token))
      .set('Content-Type', 'text/plain')
      .send('{"title":"x"}');
    expectProblem(patch, 415, 'unsupported_media_type');
    const multipart = await api()
      .post('/api/conversations/import')
      .set(bearer(user.token))
      .attach('file', Buffer.from(JSON.stringify(exportFile('multipart'))), 'export.json');
    expectProblem(multipart, 415, 'unsupported_media_type');
    const limits = await api()
      .put(`/api/admin/users/${user.id}/limits`)
      .set(bearer((await signInAdmin()).token))
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('dailyTokenBudget=1');
    expectProblem(limits, 415, 'unsupported_media_type');

    const v1 = await api()
      .post('/v1/chat/completions')
      .set(bearer(inferenceKey))
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }));
    expect(v1.status).toBe(415);
    expect(v1.body).toMatchObject({ error: { code: 'unsupported_media_type' } });

    // Nothing was created from them; a JSON body (with a charset) and a bodiless Stop still pass.
    const list = await api().get('/api/conversations').set(bearer(user.token)).expect(200);
    const titles = (list.body as { items: { title: string }[] }).items.map((c) => c.title);
    expect(titles).not.toContain('as text');
    expect(titles).not.toContain('multipart');
    const json = await api()
      .post('/api/conversations')
      .set(bearer(user.token))
      .set('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ title: 'as json' }));
    expect(json.status, json.text).toBe(201);
    const stop = await api().post(`/api/conversations/${conversationId}/stop`).set(bearer(user.token));
    expect(stop.status, stop.text).toBe(200);
  });
});
