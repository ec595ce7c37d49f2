import { type Conversation, conversationResponse } from '@corral/contracts';
import { expectedChatReply } from '@corral/ollama-sim';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { cleanTitle, titleRequest } from '../src/domain/titles.js';
import {
  bearer,
  createConversation,
  openSse,
  readUntil,
  startChat,
  type TestChat,
  type TestUser,
  useChatApiStack,
} from './helpers.js';

const stack = useChatApiStack({
  chat: { env: { TITLE_GENERATION: 'true', TITLE_TIMEOUT_MS: '2500' } },
  users: ['alice', 'bob'],
});

const replyText = (model: string, content: string) =>
  expectedChatReply({ model, messages: [{ role: 'user', content }] }).text;

/** The title ollama-sim's deterministic text gives for this exchange. */
const expectedTitle = (titleModel: string, question: string, answerModel = 'llama3.2') =>
  cleanTitle(expectedChatReply(titleRequest(titleModel, question, replyText(answerModel, question))).text);

const chatRequests = () => stack.sim.stats().requests['POST /api/chat'] ?? 0;

async function conversationOf(target: TestChat, user: TestUser, id: string): Promise<Conversation> {
  const res = await request(target.url).get(`/api/conversations/${id}`).set(bearer(user.token)).expect(200);
  return conversationResponse.parse(res.body).conversation;
}

async function exchange(target: TestChat, user: TestUser, id: string, content: string) {
  const events = await (
    await openSse(`${target.url}/api/conversations/${id}/messages`, user.token, { content })
  ).rest();
  expect(events.at(-1)?.event).toBe('done');
}

describe('titles: happy path', () => {
  it('titles a conversation after its first exchange with the conversation’s model', async () => {
    const conversation = await createConversation(stack.chat, stack.alice);
    await exchange(stack.chat, stack.alice, conversation.id, 'Plan a weekend in Lisbon');
    await expect
      .poll(async () => (await conversationOf(stack.chat, stack.alice, conversation.id)).titleSource, {
        timeout: 5000,
      })
      .toBe('generated');
    const titled = await conversationOf(stack.chat, stack.alice, conversation.id);
    const expected = expectedTitle('llama3.2', 'Plan a weekend in Lisbon');
    expect(expected.length).toBeGreaterThan(0);
    expect(titled.title).toBe(expected);
    expect(titled.title.length).toBeLessThanOrEqual(80);
    // It shows in the list the web app reads, too.
    const list = await request(stack.chat.url)
      .get('/api/conversations')
      .set(bearer(stack.alice.token))
      .expect(200);
    expect(list.body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: conversation.id, title: expected })]),
    );

    // Later exchanges leave a generated title alone.
    const requestsBefore = chatRequests();
    await exchange(stack.chat, stack.alice, conversation.id, 'And what about food?');
    await stack.chat.ctx.titles.idle();
    expect(chatRequests()).toBe(requestsBefore + 1);
    expect((await conversationOf(stack.chat, stack.alice, conversation.id)).title).toBe(expected);
  });

  it('uses TITLE_MODEL when set', async () => {
    const titled = await startChat(stack.sim, {
      schema: stack.chat.schema,
      env: { TITLE_GENERATION: 'true', TITLE_MODEL: 'qwen2.5' },
    });
    try {
      const conversation = await createConversation(titled, stack.bob);
      await exchange(titled, stack.bob, conversation.id, 'How do tides work?');
      await titled.ctx.titles.idle();
      const view = await conversationOf(titled, stack.bob, conversation.id);
      expect(view).toMatchObject({
        titleSource: 'generated',
        title: expectedTitle('qwen2.5', 'How do tides work?'),
      });
      expect(view.title).not.toBe(expectedTitle('llama3.2', 'How do tides work?'));
    } finally {
      await titled.close();
    }
  });

  it('never delays the reply: a title model that hangs leaves the first-line title', async () => {
    stack.sim.setOptions({ tokensPerSecond: 50, responseTokens: 30 });
    const conversation = await createConversation(stack.chat, stack.alice);
    const stream = await openSse(
      `${stack.chat.url}/api/conversations/${conversation.id}/messages`,
      stack.alice.token,
      {
        content: 'Why is the sky blue?\nPlease explain simply.',
      },
    );
    await readUntil(stream, 'token');
    // The reply's request is already at the sim; the next one (the title) never gets an answer.
    stack.sim.setFailure({ mode: 'hang', paths: ['/api/chat'], times: 1 });
    const done = await readUntil(stream, 'done');
    expect(JSON.parse(done.event.data)).toMatchObject({ status: 'complete' });
    expect(await conversationOf(stack.chat, stack.alice, conversation.id)).toMatchObject({
      title: 'Why is the sky blue?',
      titleSource: 'auto',
    });
    await stack.chat.ctx.titles.idle(); // gives up after TITLE_TIMEOUT_MS
    expect(await conversationOf(stack.chat, stack.alice, conversation.id)).toMatchObject({
      title: 'Why is the sky blue?',
      titleSource: 'auto',
    });
  });
});

describe('titles: a user’s title wins', () => {
  it('does not ask for a title when the conversation was created with one', async () => {
    const conversation = await createConversation(stack.chat, stack.alice, { title: 'My trip' });
    const requestsBefore = chatRequests();
    await exchange(stack.chat, stack.alice, conversation.id, 'Plan a weekend in Porto');
    await stack.chat.ctx.titles.idle();
    expect(chatRequests()).toBe(requestsBefore + 1);
    expect(await conversationOf(stack.chat, stack.alice, conversation.id)).toMatchObject({
      title: 'My trip',
      titleSource: 'user',
    });
  });

  it('keeps a rename made while the reply was still streaming', async () => {
    stack.sim.setOptions({ tokensPerSecond: 50, responseTokens: 10 });
    const conversation = await createConversation(stack.chat, stack.alice);
    const stream = await openSse(
      `${stack.chat.url}/api/conversations/${conversation.id}/messages`,
      stack.alice.token,
      {
        content: 'Name some rivers',
      },
    );
    await readUntil(stream, 'token');
    await request(stack.chat.url)
      .patch(`/api/conversations/${conversation.id}`)
      .set(bearer(stack.alice.token))
      .send({ title: 'Rivers (mine)' })
      .expect(200);
    await readUntil(stream, 'done');
    await stack.chat.ctx.titles.idle();
    expect(await conversationOf(stack.chat, stack.alice, conversation.id)).toMatchObject({
      title: 'Rivers (mine)',
      titleSource: 'user',
    });
  });
});
