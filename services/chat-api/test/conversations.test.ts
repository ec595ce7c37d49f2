import type { Conversation, ConversationResponse, Page } from '@corral/contracts';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { bearer, createConversation, expectProblem, signUp, useChatApiStack } from './helpers.js';

const stack = useChatApiStack({ users: ['alice', 'bob'] });

describe('conversations: happy path', () => {
  it('creates, reads, changes and deletes a conversation', async () => {
    const created = await request(stack.chat.url)
      .post('/api/conversations')
      .set(bearer(stack.alice.token))
      .send({ title: 'Trip plans', systemPrompt: 'Be brief.', tags: ['travel'] })
      .expect(201);
    const conversation = (created.body as ConversationResponse).conversation;
    expect(conversation).toMatchObject({
      title: 'Trip plans',
      model: 'llama3.2',
      systemPrompt: 'Be brief.',
      tags: ['travel'],
      pinned: false,
    });

    const read = await request(stack.chat.url)
      .get(`/api/conversations/${conversation.id}`)
      .set(bearer(stack.alice.token))
      .expect(200);
    expect(read.body).toEqual({ conversation: { ...created.body.conversation, assistantName: null } });

    const patched = await request(stack.chat.url)
      .patch(`/api/conversations/${conversation.id}`)
      .set(bearer(stack.alice.token))
      .send({
        title: 'Trip to Lisbon',
        pinned: true,
        tags: ['travel', '2025'],
        model: 'qwen2.5',
        systemPrompt: null,
      })
      .expect(200);
    expect(patched.body.conversation).toMatchObject({
      title: 'Trip to Lisbon',
      pinned: true,
      tags: ['travel', '2025'],
      model: 'qwen2.5',
      systemPrompt: null,
    });

    await request(stack.chat.url)
      .delete(`/api/conversations/${conversation.id}`)
      .set(bearer(stack.alice.token))
      .expect(204);
    await request(stack.chat.url)
      .get(`/api/conversations/${conversation.id}`)
      .set(bearer(stack.alice.token))
      .expect(404);
  });

  it('pages through conversations newest first with a keyset cursor', async () => {
    const user = await signUp();
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1)
      ids.push((await createConversation(stack.chat, user, { title: `c${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await request(stack.chat.url)
        .get('/api/conversations')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(bearer(user.token))
        .expect(200);
      const page = res.body as Page<Conversation>;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it('searches titles and message text, and filters pinned and archived', async () => {
    const user = await signUp();
    const byTitle = await createConversation(stack.chat, user, { title: 'Sourdough starter' });
    const byContent = await createConversation(stack.chat, user, { title: 'Misc' });
    const other = await createConversation(stack.chat, user, { title: 'Taxes' });
    await stack.chat.ctx.db.prisma.message.create({
      data: { conversationId: byContent.id, role: 'user', content: 'How long should SOURDOUGH proof?' },
    });
    const found = await request(stack.chat.url)
      .get('/api/conversations')
      .query({ q: 'sourdough' })
      .set(bearer(user.token))
      .expect(200);
    expect((found.body as Page<Conversation>).items.map((c) => c.id).sort()).toEqual(
      [byTitle.id, byContent.id].sort(),
    );

    await request(stack.chat.url)
      .patch(`/api/conversations/${byTitle.id}`)
      .set(bearer(user.token))
      .send({ pinned: true })
      .expect(200);
    await request(stack.chat.url)
      .patch(`/api/conversations/${other.id}`)
      .set(bearer(user.token))
      .send({ archived: true })
      .expect(200);
    const pinned = await request(stack.chat.url)
      .get('/api/conversations?pinned=true')
      .set(bearer(user.token))
      .expect(200);
    expect((pinned.body as Page<Conversation>).items.map((c) => c.id)).toEqual([byTitle.id]);
    const active = await request(stack.chat.url)
      .get('/api/conversations')
      .set(bearer(user.token))
      .expect(200);
    expect((active.body as Page<Conversation>).items.map((c) => c.id)).not.toContain(other.id);
    const archived = await request(stack.chat.url)
      .get('/api/conversations?archived=true')
      .set(bearer(user.token))
      .expect(200);
    expect((archived.body as Page<Conversation>).items.map((c) => c.id)).toEqual([other.id]);
    // Other users' conversations never show up, search included.
    const bobs = await request(stack.chat.url)
      .get('/api/conversations?q=sourdough')
      .set(bearer(stack.bob.token))
      .expect(200);
    expect((bobs.body as Page<Conversation>).items).toEqual([]);
  });

  it('lists the messages of the current branch', async () => {
    const conversation = await createConversation(stack.chat, stack.alice);
    const res = await request(stack.chat.url)
      .get(`/api/conversations/${conversation.id}/messages`)
      .set(bearer(stack.alice.token))
      .expect(200);
    expect(res.body).toEqual({ items: [], currentMessageId: null });
  });
});

describe('conversations: error paths', () => {
  it('answers bad input with 400 problem+json naming the field', async () => {
    const conversation = await createConversation(stack.chat, stack.alice);
    const badPatch = await request(stack.chat.url)
      .patch(`/api/conversations/${conversation.id}`)
      .set(bearer(stack.alice.token))
      .send({ pinned: 'yes' });
    expectProblem(badPatch, 400, 'validation_failed');
    expect(badPatch.body.errors[0].path).toBe('body.pinned');

    expectProblem(
      await request(stack.chat.url)
        .patch(`/api/conversations/${conversation.id}`)
        .set(bearer(stack.alice.token))
        .send({ owner: 'me' }),
      400,
      'validation_failed',
    );
    expectProblem(
      await request(stack.chat.url).get('/api/conversations?limit=0').set(bearer(stack.alice.token)),
      400,
      'validation_failed',
    );
    expectProblem(
      await request(stack.chat.url).get('/api/conversations?cursor=garbage').set(bearer(stack.alice.token)),
      400,
      'validation_failed',
    );
    expectProblem(
      await request(stack.chat.url)
        .post('/api/conversations')
        .set(bearer(stack.alice.token))
        .send({ tags: 'not-a-list' }),
      400,
      'validation_failed',
    );
    expectProblem(
      await request(stack.chat.url)
        .post('/api/conversations')
        .set(bearer(stack.alice.token))
        .set('Content-Type', 'application/json')
        .send('{"title":'),
      400,
      'malformed_json',
    );
  });

  it('answers an unknown conversation with 404', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    expectProblem(
      await request(stack.chat.url).get(`/api/conversations/${missing}`).set(bearer(stack.alice.token)),
      404,
      'not_found',
    );
    expectProblem(
      await request(stack.chat.url).get('/api/conversations/not-a-uuid').set(bearer(stack.alice.token)),
      404,
      'not_found',
    );
    expectProblem(
      await request(stack.chat.url).delete(`/api/conversations/${missing}`).set(bearer(stack.alice.token)),
      404,
      'not_found',
    );
  });
});

describe('conversations: security', () => {
  it('refuses requests without a token with 401', async () => {
    const res = await request(stack.chat.url).get('/api/conversations');
    expectProblem(res, 401, 'unauthorized');
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expectProblem(
      await request(stack.chat.url).get('/api/conversations').set(bearer('not.a.jwt')),
      401,
      'invalid_token',
    );
    expectProblem(await request(stack.chat.url).get('/api/models'), 401, 'unauthorized');
  });

  it("gives another user 404 on every route of someone's conversation, and changes nothing", async () => {
    const conversation = await createConversation(stack.chat, stack.alice, { title: 'private' });
    const base = `/api/conversations/${conversation.id}`;
    const attempts = [
      request(stack.chat.url).get(base),
      request(stack.chat.url).patch(base).send({ title: 'mine now' }),
      request(stack.chat.url).delete(base),
      request(stack.chat.url).get(`${base}/messages`),
      request(stack.chat.url).post(`${base}/messages`).send({ content: 'hi' }),
      request(stack.chat.url).post(`${base}/stop`),
      request(stack.chat.url).post(`${base}/messages/00000000-0000-4000-8000-000000000000/regenerate`),
      request(stack.chat.url)
        .post(`${base}/messages/00000000-0000-4000-8000-000000000000/edit`)
        .send({ content: 'x' }),
    ];
    for (const attempt of attempts)
      expectProblem(await attempt.set(bearer(stack.bob.token)), 404, 'not_found');
    const still = await request(stack.chat.url).get(base).set(bearer(stack.alice.token)).expect(200);
    expect(still.body.conversation.title).toBe('private');
  });
});
