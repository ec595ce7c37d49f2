import { randomBytes } from 'node:crypto';
import type { Prompt } from '@corral/contracts';
import request from 'supertest';
import { describe, expect, inject, it } from 'vitest';
import { bearer, expectProblem, signUp, type TestUser, useChatApiStack } from './helpers.js';

const stack = useChatApiStack({
  chat: { env: { MAX_PROMPTS_PER_USER: '3', MAX_PROMPT_CHARS: '50' } },
  users: ['alice', 'bob'],
  admin: true,
});
const api = () => request(stack.chat.url);

async function save(user: TestUser, body: Record<string, unknown>): Promise<Prompt> {
  const res = await api().post('/api/prompts').set(bearer(user.token)).send(body);
  expect(res.status, res.text).toBe(201);
  return (res.body as { prompt: Prompt }).prompt;
}

const list = async (user: TestUser) =>
  ((await api().get('/api/prompts').set(bearer(user.token)).expect(200)).body as { items: Prompt[] }).items;

describe('prompt library', () => {
  it('keeps personal prompts to their owner and shows shared ones to everyone', async () => {
    const mine = await save(stack.alice, { title: 'Summarise', text: 'Summarise this:' });
    expect(mine).toMatchObject({ title: 'Summarise', shared: false, editable: true });
    const tag = randomBytes(3).toString('hex');
    const shared = await save(stack.admin, {
      title: `House style ${tag}`,
      text: 'Write plainly.',
      shared: true,
    });

    const alices = await list(stack.alice);
    expect(alices.map((p) => p.id)).toEqual(expect.arrayContaining([mine.id, shared.id]));
    expect(alices.find((p) => p.id === shared.id)).toMatchObject({ shared: true, editable: false });
    const bobs = await list(stack.bob);
    expect(bobs.map((p) => p.id)).toContain(shared.id);
    expect(bobs.map((p) => p.id)).not.toContain(mine.id);

    const renamed = await api()
      .patch(`/api/prompts/${mine.id}`)
      .set(bearer(stack.alice.token))
      .send({ title: 'Summary', text: 'Summarise briefly:' })
      .expect(200);
    expect(renamed.body).toMatchObject({ prompt: { title: 'Summary', text: 'Summarise briefly:' } });
    await api().delete(`/api/prompts/${mine.id}`).set(bearer(stack.alice.token)).expect(204);
    await api().delete(`/api/prompts/${shared.id}`).set(bearer(stack.admin.token)).expect(204);
    expect((await list(stack.bob)).map((p) => p.id)).not.toContain(shared.id);
  });
});

describe('prompt library: bad input and limits', () => {
  it('refuses an empty title, a text over MAX_PROMPT_CHARS and a prompt past MAX_PROMPTS_PER_USER', async () => {
    const user = await signUp();
    expectProblem(
      await api().post('/api/prompts').set(bearer(user.token)).send({ title: ' ', text: 'x' }),
      400,
      'validation_failed',
    );
    const long = await api()
      .post('/api/prompts')
      .set(bearer(user.token))
      .send({ title: 'Long', text: 'x'.repeat(51) });
    expectProblem(long, 400, 'validation_failed');
    expect(long.text).toContain('MAX_PROMPT_CHARS');
    for (const n of [1, 2, 3]) await save(user, { title: `P${n}`, text: 'text' });
    const full = await api().post('/api/prompts').set(bearer(user.token)).send({ title: 'P4', text: 'text' });
    expectProblem(full, 409, 'conflict');
    expect(full.text).toContain('MAX_PROMPTS_PER_USER');
    expectProblem(
      await api().patch('/api/prompts/not-a-uuid').set(bearer(user.token)).send({ title: 'x' }),
      404,
      'not_found',
    );
  });
});

describe('prompt library: who may do what', () => {
  it("refuses another user's prompt, a shared prompt from a non-admin, and an inference-only key", async () => {
    const mine = await save(stack.alice, { title: 'Private', text: 'secret' });
    expectProblem(
      await api().patch(`/api/prompts/${mine.id}`).set(bearer(stack.bob.token)).send({ title: 'mine now' }),
      404,
      'not_found',
    );
    expectProblem(
      await api().delete(`/api/prompts/${mine.id}`).set(bearer(stack.bob.token)),
      404,
      'not_found',
    );
    expectProblem(
      await api()
        .post('/api/prompts')
        .set(bearer(stack.bob.token))
        .send({ title: 'All', text: 'x', shared: true }),
      403,
      'forbidden',
    );
    const shared = await save(stack.admin, { title: 'Shared', text: 'x', shared: true });
    expectProblem(
      await api().delete(`/api/prompts/${shared.id}`).set(bearer(stack.bob.token)),
      403,
      'forbidden',
    );
    expectProblem(await api().get('/api/prompts'), 401, 'unauthorized');

    const key = await request(inject('authUrl'))
      .post('/api/auth/api-keys')
      .set(bearer(stack.alice.token))
      .send({ name: `inference-${randomBytes(3).toString('hex')}` });
    expect(key.status, key.text).toBe(201);
    expectProblem(
      await api()
        .get('/api/prompts')
        .set(bearer((key.body as { key: string }).key)),
      403,
      'forbidden',
    );
    await api().delete(`/api/prompts/${shared.id}`).set(bearer(stack.admin.token)).expect(204);
  });
});
