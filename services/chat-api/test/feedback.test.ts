import type { AdminFeedbackSummary, ExportFile, FeedbackList } from '@corral/contracts';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  bearer,
  createConversation,
  expectProblem,
  openSse,
  signUp,
  type TestUser,
  useChatApiStack,
} from './helpers.js';

const stack = useChatApiStack({ admin: true, chat: { env: { FEEDBACK_COMMENT_MAX_CHARS: '40' } } });

interface Turn {
  conversationId: string;
  userMessageId: string;
  replyId: string;
}

/** A conversation with one finished turn: the user's message and the reply. */
async function turn(user: TestUser, content = 'Hello there'): Promise<Turn> {
  const conversation = await createConversation(stack.chat, user);
  const events = await (
    await openSse(`${stack.chat.url}/api/conversations/${conversation.id}/messages`, user.token, { content })
  ).rest();
  expect(events.at(-1)?.event).toBe('done');
  const res = await request(stack.chat.url)
    .get(`/api/conversations/${conversation.id}/messages`)
    .set(bearer(user.token))
    .expect(200);
  const items = (res.body as { items: { id: string; role: string }[] }).items;
  return {
    conversationId: conversation.id,
    userMessageId: items.find((m) => m.role === 'user')!.id,
    replyId: items.find((m) => m.role === 'assistant')!.id,
  };
}

const rate = (user: TestUser, t: Turn, body: object, messageId = t.replyId) =>
  request(stack.chat.url)
    .put(`/api/conversations/${t.conversationId}/messages/${messageId}/feedback`)
    .set(bearer(user.token))
    .send(body);

const listFeedback = async (user: TestUser, conversationId: string) =>
  (
    (
      await request(stack.chat.url)
        .get(`/api/conversations/${conversationId}/feedback`)
        .set(bearer(user.token))
        .expect(200)
    ).body as FeedbackList
  ).items;

describe('feedback on replies: happy path', () => {
  it('stores a thumbs up with a comment, replaces it with a thumbs down, and takes it back', async () => {
    const user = await signUp();
    const t = await turn(user);
    const up = await rate(user, t, { rating: 'up', comment: '  Spot on.  ' });
    expect(up.status, up.text).toBe(200);
    expect(up.body.feedback).toMatchObject({ messageId: t.replyId, rating: 'up', comment: 'Spot on.' });

    const down = await rate(user, t, { rating: 'down' });
    expect(down.status, down.text).toBe(200);
    expect(await listFeedback(user, t.conversationId)).toEqual([
      expect.objectContaining({ messageId: t.replyId, rating: 'down', comment: null }),
    ]);

    await request(stack.chat.url)
      .delete(`/api/conversations/${t.conversationId}/messages/${t.replyId}/feedback`)
      .set(bearer(user.token))
      .expect(204);
    expect(await listFeedback(user, t.conversationId)).toEqual([]);
  });

  it('the admin usage view counts ups and downs per model and shows the newest comments', async () => {
    const user = await signUp();
    const first = await turn(user);
    const second = await turn(user);
    await rate(user, first, { rating: 'up', comment: 'Great answer' }).expect(200);
    await rate(user, second, { rating: 'down', comment: 'Wrong date' }).expect(200);
    const res = await request(stack.chat.url)
      .get('/api/admin/feedback?days=7')
      .set(bearer(stack.admin.token))
      .expect(200);
    const summary = res.body as AdminFeedbackSummary;
    const model = summary.byModel.find((row) => row.model === 'llama3.2');
    expect(model?.up).toBeGreaterThanOrEqual(1);
    expect(model?.down).toBeGreaterThanOrEqual(1);
    expect(summary.recentComments.slice(0, 2).map((c) => c.comment)).toEqual(['Wrong date', 'Great answer']);
    expect(summary.recentComments[0]).toMatchObject({ userId: user.id, rating: 'down', model: 'llama3.2' });
  });

  it('is in the export and comes back with an import into another account', async () => {
    const alice = await signUp();
    const t = await turn(alice);
    await rate(alice, t, { rating: 'up', comment: 'Kept' }).expect(200);
    const file = JSON.parse(
      (
        await request(stack.chat.url)
          .get(`/api/conversations/${t.conversationId}/export`)
          .set(bearer(alice.token))
          .expect(200)
      ).text,
    ) as ExportFile;
    const reply = file.conversations[0]!.messages.find((m) => m.id === t.replyId);
    expect(reply?.feedback).toMatchObject({ rating: 'up', comment: 'Kept' });

    const bob = await signUp();
    const imported = await request(stack.chat.url)
      .post('/api/conversations/import')
      .set(bearer(bob.token))
      .send(file)
      .expect(200);
    const renamed = (imported.body as { renamed: { from: string; to: string }[] }).renamed[0]!;
    const items = await listFeedback(bob, renamed.to);
    expect(items).toEqual([expect.objectContaining({ rating: 'up', comment: 'Kept' })]);
    // Alice's own rating is untouched by Bob's copy.
    expect(await listFeedback(alice, t.conversationId)).toHaveLength(1);
  });
});

describe('feedback on replies: bad input', () => {
  it('refuses an unknown rating, extra fields, and a comment over FEEDBACK_COMMENT_MAX_CHARS naming it', async () => {
    const user = await signUp();
    const t = await turn(user);
    expectProblem(await rate(user, t, { rating: 'meh' }), 400, 'validation_failed');
    expectProblem(await rate(user, t, { rating: 'up', stars: 5 }), 400, 'validation_failed');
    const long = await rate(user, t, { rating: 'down', comment: 'x'.repeat(41) });
    expectProblem(long, 400, 'validation_failed');
    expect(long.body.detail).toContain('FEEDBACK_COMMENT_MAX_CHARS');
    expect(long.body.limit).toBe(40);
    expect(await listFeedback(user, t.conversationId)).toEqual([]);
  });

  it("refuses the user's own message and answers 404 for a message that is not in the conversation", async () => {
    const user = await signUp();
    const t = await turn(user);
    const other = await turn(user);
    expectProblem(await rate(user, t, { rating: 'up' }, t.userMessageId), 400, 'validation_failed');
    expectProblem(await rate(user, t, { rating: 'up' }, other.replyId), 404, 'not_found');
    expectProblem(await rate(user, t, { rating: 'up' }, 'not-a-uuid'), 404, 'not_found');
  });

  it('refuses an import whose comment is over the limit, importing nothing', async () => {
    const user = await signUp();
    const t = await turn(user);
    await rate(user, t, { rating: 'up', comment: 'fine' }).expect(200);
    const file = JSON.parse(
      (await request(stack.chat.url).get('/api/conversations/export').set(bearer(user.token)).expect(200))
        .text,
    ) as ExportFile;
    file.conversations[0]!.messages.find((m) => m.feedback)!.feedback!.comment = 'y'.repeat(41);
    const other = await signUp();
    const res = await request(stack.chat.url)
      .post('/api/conversations/import')
      .set(bearer(other.token))
      .send(file);
    expectProblem(res, 400, 'validation_failed');
    const list = await request(stack.chat.url).get('/api/conversations').set(bearer(other.token)).expect(200);
    expect(list.body.items).toEqual([]);
  });
});

describe('feedback on replies: security', () => {
  it("needs a token, and another user can neither rate nor read someone's replies", async () => {
    const alice = await signUp();
    const bob = await signUp();
    const t = await turn(alice);
    expectProblem(
      await request(stack.chat.url)
        .put(`/api/conversations/${t.conversationId}/messages/${t.replyId}/feedback`)
        .send({ rating: 'up' }),
      401,
      'unauthorized',
    );
    expectProblem(await rate(bob, t, { rating: 'down' }), 404, 'not_found');
    expectProblem(
      await request(stack.chat.url)
        .get(`/api/conversations/${t.conversationId}/feedback`)
        .set(bearer(bob.token)),
      404,
      'not_found',
    );
    expectProblem(
      await request(stack.chat.url)
        .delete(`/api/conversations/${t.conversationId}/messages/${t.replyId}/feedback`)
        .set(bearer(bob.token)),
      404,
      'not_found',
    );
    expect(await listFeedback(alice, t.conversationId)).toEqual([]);
  });

  it('the admin summary is for admins only', async () => {
    const user = await signUp();
    expectProblem(
      await request(stack.chat.url).get('/api/admin/feedback').set(bearer(user.token)),
      403,
      'forbidden',
    );
  });
});
