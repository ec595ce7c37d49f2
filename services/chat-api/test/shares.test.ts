import { randomBytes } from 'node:crypto';
import type { Share, SharedConversation } from '@corral/contracts';
import request from 'supertest';
import { describe, expect, inject, it } from 'vitest';
import {
  bearer,
  createConversation,
  expectProblem,
  openSse,
  signInAdmin,
  signUp,
  type TestUser,
  useChatApiStack,
} from './helpers.js';

const stack = useChatApiStack({
  chat: { env: { RATE_LIMIT_PER_MINUTE: '0', MAX_SHARES_PER_USER: '2' } },
  users: ['alice', 'bob'],
});
const api = () => request(stack.chat.url);

async function say(user: TestUser, conversationId: string, content: string): Promise<void> {
  const stream = await openSse(`${stack.chat.url}/api/conversations/${conversationId}/messages`, user.token, {
    content,
  });
  expect((await stream.rest()).at(-1)?.event).toBe('done');
}

async function share(user: TestUser, conversationId: string): Promise<Share> {
  const res = await api().post('/api/shares').set(bearer(user.token)).send({ conversationId });
  expect(res.status, res.text).toBe(201);
  return (res.body as { share: Share }).share;
}

const view = (user: TestUser | string, token: string) =>
  api()
    .get(`/api/shares/view/${token}`)
    .set(bearer(typeof user === 'string' ? user : user.token));

describe('shared conversations', () => {
  it('is a snapshot of the current branch that another user reads, until the owner revokes it', async () => {
    const conversation = await createConversation(stack.chat, stack.alice, { title: 'Trip plan' });
    await say(stack.alice, conversation.id, 'Where should I go in May?');
    const link = await share(stack.alice, conversation.id);
    expect(link).toMatchObject({ conversationId: conversation.id, title: 'Trip plan', messageCount: 2 });
    expect(link.token.length).toBeGreaterThanOrEqual(32);

    // Later messages are not in the snapshot.
    await say(stack.alice, conversation.id, 'And in June?');
    const seen = await view(stack.bob, link.token);
    expect(seen.status, seen.text).toBe(200);
    const snapshot = (seen.body as { share: SharedConversation }).share;
    expect(snapshot).toMatchObject({ title: 'Trip plan', own: false });
    expect(snapshot.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(snapshot.messages[0]!.content).toBe('Where should I go in May?');
    expect((await view(stack.alice, link.token)).body).toMatchObject({ share: { own: true } });

    const mine = await api().get('/api/shares').set(bearer(stack.alice.token)).expect(200);
    expect((mine.body as { items: Share[] }).items.map((s) => s.id)).toContain(link.id);
    expect(
      ((await api().get('/api/shares').set(bearer(stack.bob.token))).body as { items: Share[] }).items,
    ).toEqual([]);

    await api().delete(`/api/shares/${link.id}`).set(bearer(stack.alice.token)).expect(204);
    expectProblem(await view(stack.bob, link.token), 404, 'not_found');
  });

  it('goes with the conversation it was taken from', async () => {
    const conversation = await createConversation(stack.chat, stack.alice, { title: 'Short-lived' });
    await say(stack.alice, conversation.id, 'hello');
    const link = await share(stack.alice, conversation.id);
    await api().delete(`/api/conversations/${conversation.id}`).set(bearer(stack.alice.token)).expect(204);
    expectProblem(await view(stack.bob, link.token), 404, 'not_found');
  });
});

describe('shared conversations: bad input and limits', () => {
  it('refuses an unknown token, a bad id and links past MAX_SHARES_PER_USER', async () => {
    const user = await signUp();
    expectProblem(await view(user, 'no-such-token'), 404, 'not_found');
    expectProblem(await view(user, 'not a token!'), 404, 'not_found');
    expectProblem(await api().post('/api/shares').set(bearer(user.token)).send({}), 400, 'validation_failed');
    expectProblem(await api().delete('/api/shares/not-a-uuid').set(bearer(user.token)), 404, 'not_found');
    const conversation = await createConversation(stack.chat, user);
    await share(user, conversation.id);
    await share(user, conversation.id);
    const full = await api()
      .post('/api/shares')
      .set(bearer(user.token))
      .send({ conversationId: conversation.id });
    expectProblem(full, 409, 'conflict');
    expect(full.text).toContain('MAX_SHARES_PER_USER');
  });
});

describe('shared conversations: who may do what', () => {
  it("refuses a signed-out reader, sharing or revoking someone else's, and an inference-only key", async () => {
    const conversation = await createConversation(stack.chat, stack.alice, { title: 'Private' });
    const link = await share(stack.alice, conversation.id);
    expectProblem(await api().get(`/api/shares/view/${link.token}`), 401, 'unauthorized');
    expectProblem(
      await api().post('/api/shares').set(bearer(stack.bob.token)).send({ conversationId: conversation.id }),
      404,
      'not_found',
    );
    expectProblem(
      await api().delete(`/api/shares/${link.id}`).set(bearer(stack.bob.token)),
      404,
      'not_found',
    );

    const inference = await request(inject('authUrl'))
      .post('/api/auth/api-keys')
      .set(bearer(stack.bob.token))
      .send({ name: `inference-${randomBytes(3).toString('hex')}` });
    expect(inference.status, inference.text).toBe(201);
    expectProblem(await view((inference.body as { key: string }).key, link.token), 403, 'forbidden');

    // A key an admin granted the account scope reads it like its user's session.
    const admin = await signInAdmin();
    const account = await request(inject('authUrl'))
      .post(`/api/auth/admin/users/${stack.bob.id}/api-keys`)
      .set(bearer(admin.token))
      .send({ name: `account-${randomBytes(3).toString('hex')}`, scopes: ['inference', 'account'] });
    expect(account.status, account.text).toBe(201);
    expect((await view((account.body as { key: string }).key, link.token)).status).toBe(200);
  });
});
