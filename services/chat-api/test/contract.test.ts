import {
  adminFeedbackSummary,
  attachmentResponse,
  adminUsagePage,
  apiKeyLimitsResponse,
  assistantList,
  assistantResponse,
  backendPool,
  chatSummary,
  conversationPage,
  conversationResponse,
  exportFile,
  feedbackList,
  feedbackResponse,
  folderList,
  folderResponse,
  groupUsageResponse,
  importResult,
  messageList,
  modelListing,
  modelRemoval,
  openAiErrorResponse,
  parseReplyEvent,
  problemDetails,
  promptList,
  promptResponse,
  pullLine,
  pullSummary,
  poolModelListing,
  poolModelView,
  sharedConversationResponse,
  shareList,
  shareResponse,
  stopResult,
  usageResponse,
  userLimitsResponse,
} from '@corral/contracts';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { CHAT_API_ROUTES, contract } from './contract.js';
import { bearer, createApiKeyWithId, openSse, useChatApiStack } from './helpers.js';

const TOKEN = 'contract-gateway-service-token-0123456789abcdef';

// The real gateway in front of the sim, so the pool views chat-api relays are the gateway's own.
const stack = useChatApiStack({ gatewayToken: TOKEN, admin: true, users: ['alice'] });

const api = () => request(stack.chat.url);

describe('chat-api answers as @corral/contracts says', () => {
  it('conversations, messages, the reply stream, stop, export and import', async () => {
    const auth = bearer(stack.alice.token);
    const created = await api().post('/api/conversations').set(auth).send({ title: 'Contract' }).expect(201);
    const { conversation } = conversationResponse.parse(created.body);
    const base = `/api/conversations/${conversation.id}`;

    const events = await (
      await openSse(`${stack.chat.url}${base}/messages`, stack.alice.token, { content: 'Hello' })
    ).rest();
    const parsed = events.map((event) => parseReplyEvent(event.event, JSON.parse(event.data)));
    expect(parsed.at(0)?.type).toBe('start');
    expect(parsed.at(-1)?.type).toBe('done');

    conversationResponse.parse((await api().get(base).set(auth).expect(200)).body);
    conversationResponse.parse((await api().patch(base).set(auth).send({ pinned: true }).expect(200)).body);
    conversationPage.parse((await api().get('/api/conversations').set(auth).expect(200)).body);
    const messages = messageList.parse(
      (await api().get(`${base}/messages`).query({ branch: 'all' }).set(auth).expect(200)).body,
    );
    expect(messages.items.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(stopResult.parse((await api().post(`${base}/stop`).set(auth).expect(200)).body)).toEqual({
      stopping: [],
    });

    const file = exportFile.parse(JSON.parse((await api().get(`${base}/export`).set(auth).expect(200)).text));
    exportFile.parse(JSON.parse((await api().get('/api/conversations/export').set(auth).expect(200)).text));
    const imported = importResult.parse(
      (await api().post('/api/conversations/import').set(auth).send(file).expect(200)).body,
    );
    expect(imported).toMatchObject({ imported: 0, skipped: 1 });
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
      'base64',
    );
    const uploaded = await api()
      .post(`${base}/attachments`)
      .set(auth)
      .set('Content-Type', 'image/png')
      .send(png)
      .expect(201);
    const { attachment } = attachmentResponse.parse(uploaded.body);
    await api().get(`${base}/attachments/${attachment.id}`).set(auth).expect(200);
    await api().delete(base).set(auth).expect(204);
  });

  it('models, usage, limits, admin usage, the summary and the gateway’s pool', async () => {
    const auth = bearer(stack.alice.token);
    const admin = bearer(stack.admin.token);
    const models = modelListing.parse((await api().get('/api/models').set(auth).expect(200)).body);
    expect(models.items.map((m) => m.name)).toContain('llama3.2:latest');
    usageResponse.parse((await api().get('/api/usage').set(auth).expect(200)).body);

    const limits = `/api/admin/users/${stack.alice.id}/limits`;
    userLimitsResponse.parse((await api().get(limits).set(admin).expect(200)).body);
    userLimitsResponse.parse(
      (await api().put(limits).set(admin).send({ requestsPerMinute: 500 }).expect(200)).body,
    );
    const key = await createApiKeyWithId(stack.alice);
    const keyLimits = `/api/admin/api-keys/${key.id}/limits`;
    apiKeyLimitsResponse.parse((await api().get(keyLimits).set(admin).expect(200)).body);
    apiKeyLimitsResponse.parse(
      (await api().put(keyLimits).set(admin).send({ dailyTokenBudget: 10 }).expect(200)).body,
    );

    adminUsagePage.parse((await api().get('/api/admin/usage').set(admin).expect(200)).body);
    groupUsageResponse.parse((await api().get('/api/admin/usage/groups').set(admin).expect(200)).body);
    chatSummary.parse((await api().get('/api/metrics/chat').set(admin).expect(200)).body);
    const pool = backendPool.parse((await api().get('/api/admin/backends').set(admin).expect(200)).body);
    expect(pool.backends.map((backend) => backend.url)).toEqual([stack.sim.url]);

    const pull = await api()
      .post('/api/admin/models/pull')
      .set(admin)
      .send({ model: 'llama3.2' })
      .expect(200);
    const lines = pull.text
      .trim()
      .split('\n')
      .map((line) => pullLine.parse(JSON.parse(line)));
    expect(pullSummary.parse(lines.at(-1))).toMatchObject({ status: 'success', done: true });
  });

  it('the pool’s models: the listing, the availability switch and removal', async () => {
    const admin = bearer(stack.admin.token);
    const name = 'smollm2:135m';
    const pulled = await api().post('/api/admin/models/pull').set(admin).send({ model: name }).expect(200);
    expect(pullSummary.parse(JSON.parse(pulled.text.trim().split('\n').at(-1)!))).toMatchObject({
      done: true,
    });
    const listing = poolModelListing.parse(
      (await api().get('/api/admin/models').set(admin).expect(200)).body,
    );
    expect(listing.items.map((m) => m.name)).toContain(name);
    const path = `/api/admin/models/${encodeURIComponent(name)}`;
    const switched = poolModelView.parse(
      (await api().put(`${path}/availability`).set(admin).send({ availableToUsers: true }).expect(200)).body,
    );
    expect(switched.availableToUsers).toBe(true);
    const removal = modelRemoval.parse((await api().delete(path).set(admin).expect(200)).body);
    expect(removal.status).toBe('removed');
  });

  it('prompts, assistants and shared conversations', async () => {
    const auth = bearer(stack.alice.token);
    const { prompt } = promptResponse.parse(
      (await api().post('/api/prompts').set(auth).send({ title: 'T', text: 'text' }).expect(201)).body,
    );
    promptResponse.parse(
      (await api().patch(`/api/prompts/${prompt.id}`).set(auth).send({ title: 'U' }).expect(200)).body,
    );
    promptList.parse((await api().get('/api/prompts').set(auth).expect(200)).body);
    const { assistant } = assistantResponse.parse(
      (await api().post('/api/assistants').set(auth).send({ name: 'A', baseModel: 'llama3.2' }).expect(201))
        .body,
    );
    assistantResponse.parse(
      (await api().patch(`/api/assistants/${assistant.id}`).set(auth).send({ temperature: 0.5 }).expect(200))
        .body,
    );
    assistantList.parse((await api().get('/api/assistants').set(auth).expect(200)).body);
    const created = await api().post('/api/conversations').set(auth).send({ title: 'Shared' }).expect(201);
    const { conversation } = conversationResponse.parse(created.body);
    const { share } = shareResponse.parse(
      (await api().post('/api/shares').set(auth).send({ conversationId: conversation.id }).expect(201)).body,
    );
    shareList.parse((await api().get('/api/shares').set(auth).expect(200)).body);
    sharedConversationResponse.parse(
      (await api().get(`/api/shares/view/${share.token}`).set(auth).expect(200)).body,
    );
    await api().delete(`/api/shares/${share.id}`).set(auth).expect(204);
    await api().delete(`/api/assistants/${assistant.id}`).set(auth).expect(204);
    await api().delete(`/api/prompts/${prompt.id}`).set(auth).expect(204);
  });

  it('errors: problem+json on /api, OpenAI’s body on /v1 (an unknown model is invalid_request_error)', async () => {
    const auth = bearer(stack.alice.token);
    const missing = await api().get('/api/conversations/00000000-0000-4000-8000-000000000000').set(auth);
    expect(problemDetails.parse(JSON.parse(missing.text))).toMatchObject({ status: 404, code: 'not_found' });
    const invalid = await api().post('/api/conversations').set(auth).send({ tags: 'x' });
    expect(problemDetails.parse(JSON.parse(invalid.text))).toMatchObject({ code: 'validation_failed' });

    const key = await createApiKeyWithId(stack.alice);
    const unknown = await api()
      .post('/v1/chat/completions')
      .set(bearer(key.key))
      .send({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] });
    expect(unknown.status).toBe(404);
    expect(openAiErrorResponse.parse(unknown.body)).toMatchObject({
      error: { type: 'invalid_request_error', code: 'model_not_found' },
    });
  });

  it('feedback on a reply, the admin feedback summary, folders and filing a conversation', async () => {
    const auth = bearer(stack.alice.token);
    const created = await api().post('/api/conversations').set(auth).send({ title: 'Rated' }).expect(201);
    const { conversation } = conversationResponse.parse(created.body);
    const base = `/api/conversations/${conversation.id}`;
    await (await openSse(`${stack.chat.url}${base}/messages`, stack.alice.token, { content: 'Hi' })).rest();
    const reply = messageList
      .parse((await api().get(`${base}/messages`).set(auth).expect(200)).body)
      .items.find((m) => m.role === 'assistant')!;
    const rated = `${base}/messages/${reply.id}/feedback`;
    feedbackResponse.parse(
      (await api().put(rated).set(auth).send({ rating: 'up', comment: 'ok' }).expect(200)).body,
    );
    feedbackList.parse((await api().get(`${base}/feedback`).set(auth).expect(200)).body);
    adminFeedbackSummary.parse(
      (await api().get('/api/admin/feedback').set(bearer(stack.admin.token)).expect(200)).body,
    );
    await api().delete(rated).set(auth).expect(204);

    const { folder } = folderResponse.parse(
      (await api().post('/api/folders').set(auth).send({ name: 'F' }).expect(201)).body,
    );
    folderList.parse((await api().get('/api/folders').set(auth).expect(200)).body);
    folderResponse.parse(
      (await api().patch(`/api/folders/${folder.id}`).set(auth).send({ name: 'G' }).expect(200)).body,
    );
    conversationResponse.parse(
      (await api().put(`${base}/folder`).set(auth).send({ folderId: folder.id }).expect(200)).body,
    );
    await api().delete(`/api/folders/${folder.id}`).set(auth).expect(204);
  });

  it('checked every answer above, on each route of the contract table but OpenAI’s and the probes', () => {
    const seen = new Set([...contract.checked.keys()].map((key) => key.split(' ').slice(0, 2).join(' ')));
    const owned = CHAT_API_ROUTES.filter((route) => route.body !== null || route.events || route.lines);
    const missing = owned.map((route) => `${route.method} ${route.path}`).filter((route) => !seen.has(route));
    // regenerate, edit, a new chat's first message and a resumed reply stream the same events as a
    // new message (streaming.test.ts, start.test.ts and resume.test.ts send them, checked there).
    expect(missing.sort()).toEqual([
      'GET /api/conversations/:id/messages/:messageId/stream',
      'POST /api/conversations/:id/messages/:messageId/edit',
      'POST /api/conversations/:id/messages/:messageId/regenerate',
      'POST /api/conversations/start',
    ]);
    expect(contract.violations).toEqual([]);
  });
});
