import OpenAI from 'openai';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  bearer,
  createApiKey,
  createConversation,
  openSse,
  readUntil,
  signUp,
  type TestUser,
  useChatApiStack,
} from './helpers.js';

const stack = useChatApiStack({ users: ['ann'] });

afterEach(() => vi.restoreAllMocks());

/** How many times the user's limits were looked up while `send` ran (a spy on the real store). */
async function limitLookups(user: TestUser, send: () => Promise<unknown>): Promise<number> {
  const effective = vi.spyOn(stack.chat.ctx.limits, 'effective');
  try {
    await send();
    return effective.mock.calls.filter(([userId]) => userId === user.id).length;
  } finally {
    effective.mockRestore();
  }
}

async function stopCount(reached: 'local' | 'remote'): Promise<number> {
  const text = (await request(stack.chat.url).get('/metrics').expect(200)).text;
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`corral_chat_stop_requests_total{reached="${reached}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe("a user's limits", () => {
  it('are looked up once per request, on the UI routes, the express /v1 routes and the direct route', async () => {
    const user = await signUp();
    const key = await createApiKey(user);
    const openai = new OpenAI({ apiKey: key, baseURL: `${stack.chat.url}/v1`, maxRetries: 0 });
    const conversation = await createConversation(stack.chat, user);
    const url = stack.chat.url;

    // A chat turn: rate limit, model allowlist, daily budget and stream slot all read the one lookup.
    expect(
      await limitLookups(user, async () => {
        const stream = await openSse(`${url}/api/conversations/${conversation.id}/messages`, user.token, {
          content: 'Hello',
        });
        await readUntil(stream, 'done');
      }),
    ).toBe(1);
    expect(
      await limitLookups(user, () =>
        request(url)
          .post('/api/conversations')
          .set(bearer(user.token))
          .send({ model: 'qwen2.5' })
          .expect(201),
      ),
    ).toBe(1);
    expect(
      await limitLookups(user, () => request(url).get('/api/models').set(bearer(user.token)).expect(200)),
    ).toBe(1);
    expect(
      await limitLookups(user, () => request(url).get('/api/usage').set(bearer(user.token)).expect(200)),
    ).toBe(1);
    // The OpenAI SDK's JSON call takes the direct route; models and embeddings go through express.
    expect(
      await limitLookups(user, () =>
        openai.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] }),
      ),
    ).toBe(1);
    expect(await limitLookups(user, () => openai.models.list())).toBe(1);
    expect(
      await limitLookups(user, () => openai.embeddings.create({ model: 'nomic-embed-text', input: 'text' })),
    ).toBe(1);
  });
});

describe('deleting a conversation with a reply in progress', () => {
  it('stops the reply as the stop route does: counted, and saved before the delete answers', async () => {
    stack.sim.setFailure({ mode: 'hang', paths: ['/api/chat'] });
    const conversation = await createConversation(stack.chat, stack.ann);
    const stream = await openSse(
      `${stack.chat.url}/api/conversations/${conversation.id}/messages`,
      stack.ann.token,
      {
        content: 'Still there?',
      },
    );
    const start = JSON.parse((await readUntil(stream, 'start')).event.data) as {
      assistantMessage: { id: string };
    };
    const stopsBefore = await stopCount('local');
    expect(stack.chat.ctx.generations.activeIds()).toContain(start.assistantMessage.id);

    await request(stack.chat.url)
      .delete(`/api/conversations/${conversation.id}`)
      .set(bearer(stack.ann.token))
      .expect(204);

    // Answered only once the reply had ended here (its final save done), and counted as a stop.
    expect(stack.chat.ctx.generations.activeIds()).not.toContain(start.assistantMessage.id);
    expect(await stopCount('local')).toBe(stopsBefore + 1);
    expect(JSON.parse((await readUntil(stream, 'done')).event.data)).toMatchObject({ status: 'stopped' });
    await request(stack.chat.url)
      .get(`/api/conversations/${conversation.id}`)
      .set(bearer(stack.ann.token))
      .expect(404);
  });
});
