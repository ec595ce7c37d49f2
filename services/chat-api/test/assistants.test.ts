import { randomBytes } from 'node:crypto';
import type { Assistant, ExportFile, Group, ImportResult, Prompt } from '@corral/contracts';
import request from 'supertest';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { bearer, expectProblem, openSse, signUp, type TestUser, useChatApiStack } from './helpers.js';

const stack = useChatApiStack({
  chat: {
    env: {
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_ASSISTANTS_PER_USER: '2',
      MAX_PROMPT_CHARS: '200',
      USER_LIMITS_CACHE_MS: '0',
    },
  },
  users: ['alice', 'bob'],
  admin: true,
});
const api = () => request(stack.chat.url);
const auth = () => request(inject('authUrl'));

// Groups live in the auth service every test file shares: this file's restricted model is its own.
const TEAM_MODEL = `assist-team-${randomBytes(3).toString('hex')}`;
beforeAll(() => stack.sim.addModel(TEAM_MODEL));

async function create(user: TestUser, body: Record<string, unknown>): Promise<Assistant> {
  const res = await api().post('/api/assistants').set(bearer(user.token)).send(body);
  expect(res.status, res.text).toBe(201);
  return (res.body as { assistant: Assistant }).assistant;
}

const listed = async (user: TestUser) =>
  (
    (await api().get('/api/assistants').set(bearer(user.token)).expect(200)).body as { items: Assistant[] }
  ).items.map((a) => a.id);

/** Starts a chat with the assistant and reads the reply to its end. */
async function startWith(user: TestUser, assistantId: string, content = 'Hello there') {
  const stream = await openSse(`${stack.chat.url}/api/conversations/start`, user.token, {
    content,
    assistantId,
  });
  const events = await stream.rest();
  return { status: stream.status, events };
}

async function createGroup(members: TestUser[], allowedModels: string[] = []): Promise<Group> {
  const created = await auth()
    .post('/api/auth/admin/groups')
    .set(bearer(stack.admin.token))
    .send({ name: `assistants-${randomBytes(4).toString('hex')}` });
  expect(created.status, created.text).toBe(201);
  const group = (created.body as { group: Group }).group;
  if (allowedModels.length > 0) {
    await auth()
      .put(`/api/auth/admin/groups/${group.id}/limits`)
      .set(bearer(stack.admin.token))
      .send({ allowedModels })
      .expect(200);
  }
  for (const member of members) {
    await auth()
      .put(`/api/auth/admin/groups/${group.id}/members/${member.id}`)
      .set(bearer(stack.admin.token))
      .expect(200);
  }
  return group;
}

describe('assistants', () => {
  it('starts a conversation whose replies carry its system prompt and parameters to the model', async () => {
    const pirate = await create(stack.alice, {
      name: 'Pirate',
      baseModel: 'llama3.2',
      systemPrompt: 'You are a pirate. Answer in pirate speak.',
      temperature: 0.3,
      seed: 7,
      maxTokens: 5,
    });
    expect(pirate).toMatchObject({
      name: 'Pirate',
      shared: false,
      editable: true,
      temperature: 0.3,
      topP: null,
    });
    expect(await listed(stack.alice)).toContain(pirate.id);
    expect(await listed(stack.bob)).not.toContain(pirate.id);

    const first = await startWith(stack.alice, pirate.id);
    expect(first.status).toBe(200);
    expect(first.events.at(-1)?.event).toBe('done');
    const { conversationId } = JSON.parse(first.events[0]!.data) as { conversationId: string };
    const sent = stack.sim.chats().at(-1);
    expect(sent?.messages[0]).toEqual({
      role: 'system',
      content: 'You are a pirate. Answer in pirate speak.',
    });
    expect(sent?.options).toMatchObject({ temperature: 0.3, seed: 7, num_predict: 5 });
    const conversation = await api()
      .get(`/api/conversations/${conversationId}`)
      .set(bearer(stack.alice.token));
    expect(conversation.body).toMatchObject({
      conversation: {
        model: 'llama3.2',
        systemPrompt: 'You are a pirate. Answer in pirate speak.',
        assistantName: 'Pirate',
      },
    });

    // The next turn too, on the server's record, whatever the client sends.
    const next = await openSse(
      `${stack.chat.url}/api/conversations/${conversationId}/messages`,
      stack.alice.token,
      {
        content: 'And then?',
      },
    );
    expect((await next.rest()).at(-1)?.event).toBe('done');
    expect(stack.sim.chats().at(-1)?.options).toMatchObject({ temperature: 0.3, seed: 7, num_predict: 5 });
    expect(
      stack.sim
        .chats()
        .at(-1)
        ?.messages.filter((m) => m.role === 'system'),
    ).toHaveLength(1);

    // Deleting the assistant leaves the conversation as it was started.
    await api().delete(`/api/assistants/${pirate.id}`).set(bearer(stack.alice.token)).expect(204);
    const after = await openSse(
      `${stack.chat.url}/api/conversations/${conversationId}/messages`,
      stack.alice.token,
      {
        content: 'Still there?',
      },
    );
    expect((await after.rest()).at(-1)?.event).toBe('done');
    expect(stack.sim.chats().at(-1)?.options).toMatchObject({ seed: 7 });
  });

  it('shares an admin assistant with everyone or only with a group, its base model checked per user', async () => {
    const [member, outsider] = await Promise.all([signUp(), signUp()]);
    const group = await createGroup([member]);
    const forGroup = await create(stack.admin, {
      name: 'Team helper',
      baseModel: 'llama3.2',
      systemPrompt: 'Team rules apply.',
      shared: true,
      groupIds: [group.id],
    });
    expect(await listed(member)).toContain(forGroup.id);
    expect(await listed(outsider)).not.toContain(forGroup.id);
    expect((await startWith(member, forGroup.id)).events.at(-1)?.event).toBe('done');
    expectProblem(
      await api()
        .post('/api/conversations/start')
        .set(bearer(outsider.token))
        .send({ content: 'hi', assistantId: forGroup.id }),
      404,
      'not_found',
    );

    // Open to all, on a model only a group may use: outsiders neither see nor use it.
    await createGroup([member], [TEAM_MODEL]);
    const onTeamModel = await create(stack.admin, {
      name: 'Team model',
      baseModel: TEAM_MODEL,
      shared: true,
    });
    expect(await listed(member)).toContain(onTeamModel.id);
    expect(await listed(outsider)).not.toContain(onTeamModel.id);
    expectProblem(
      await api()
        .post('/api/conversations/start')
        .set(bearer(outsider.token))
        .send({ content: 'hi', assistantId: onTeamModel.id }),
      404,
      'model_not_found',
    );
    for (const id of [forGroup.id, onTeamModel.id]) {
      await api().delete(`/api/assistants/${id}`).set(bearer(stack.admin.token)).expect(204);
    }
  });

  it('travels in the export with the personal prompts, and another account imports them', async () => {
    const owner = await signUp();
    const assistant = await create(owner, {
      name: 'Editor',
      baseModel: 'llama3.2',
      systemPrompt: 'Edit.',
      topP: 0.9,
    });
    const prompt = (
      await api()
        .post('/api/prompts')
        .set(bearer(owner.token))
        .send({ title: 'Fix grammar', text: 'Fix the grammar:' })
    ).body as { prompt: Prompt };
    const file = JSON.parse(
      (await api().get('/api/conversations/export').set(bearer(owner.token)).expect(200)).text,
    ) as ExportFile;
    expect(file.assistants).toEqual([
      expect.objectContaining({ id: assistant.id, name: 'Editor', topP: 0.9 }),
    ]);
    expect(file.prompts).toEqual([expect.objectContaining({ id: prompt.prompt.id, title: 'Fix grammar' })]);

    const other = await signUp();
    const imported = await api().post('/api/conversations/import').set(bearer(other.token)).send(file);
    expect(imported.status, imported.text).toBe(200);
    expect(imported.body).toMatchObject({ prompts: 1, assistants: 1 } satisfies Partial<ImportResult>);
    const theirs = (await api().get('/api/assistants').set(bearer(other.token)).expect(200)).body as {
      items: Assistant[];
    };
    expect(theirs.items).toEqual([
      expect.objectContaining({ name: 'Editor', systemPrompt: 'Edit.', editable: true }),
    ]);
    expect(theirs.items[0]!.id).not.toBe(assistant.id);
    // The owner's own file again: nothing new.
    const again = await api().post('/api/conversations/import').set(bearer(owner.token)).send(file);
    expect(again.body).toMatchObject({ prompts: 0, assistants: 0 });
  });
});

describe('assistants: bad input and limits', () => {
  it('refuses a model with an assistant, bad parameters, a long system prompt and one past the limit', async () => {
    const user = await signUp();
    const assistant = await create(user, { name: 'One', baseModel: 'llama3.2' });
    expectProblem(
      await api()
        .post('/api/conversations/start')
        .set(bearer(user.token))
        .send({ content: 'hi', assistantId: assistant.id, model: 'qwen2.5' }),
      400,
      'validation_failed',
    );
    expectProblem(
      await api()
        .post('/api/assistants')
        .set(bearer(user.token))
        .send({ name: 'Hot', baseModel: 'llama3.2', temperature: 3 }),
      400,
      'validation_failed',
    );
    const long = await api()
      .post('/api/assistants')
      .set(bearer(user.token))
      .send({ name: 'Long', baseModel: 'llama3.2', systemPrompt: 'x'.repeat(201) });
    expectProblem(long, 400, 'validation_failed');
    expect(long.text).toContain('MAX_PROMPT_CHARS');
    expectProblem(
      await api()
        .post('/api/assistants')
        .set(bearer(user.token))
        .send({ name: 'Nope', baseModel: 'no-such-model' }),
      404,
      'model_not_found',
    );
    await create(user, { name: 'Two', baseModel: 'llama3.2' });
    const full = await api()
      .post('/api/assistants')
      .set(bearer(user.token))
      .send({ name: 'Three', baseModel: 'llama3.2' });
    expectProblem(full, 409, 'conflict');
    expect(full.text).toContain('MAX_ASSISTANTS_PER_USER');
  });
});

describe('assistants: who may do what', () => {
  it("refuses another user's assistant, sharing by a non-admin, and changing a shared one", async () => {
    const mine = await create(stack.alice, { name: 'Mine', baseModel: 'llama3.2' });
    expectProblem(
      await api()
        .post('/api/conversations/start')
        .set(bearer(stack.bob.token))
        .send({ content: 'hi', assistantId: mine.id }),
      404,
      'not_found',
    );
    expectProblem(
      await api().patch(`/api/assistants/${mine.id}`).set(bearer(stack.bob.token)).send({ name: 'x' }),
      404,
      'not_found',
    );
    expectProblem(
      await api()
        .post('/api/assistants')
        .set(bearer(stack.bob.token))
        .send({ name: 'All', baseModel: 'llama3.2', shared: true }),
      403,
      'forbidden',
    );
    const shared = await create(stack.admin, { name: 'Shared', baseModel: 'llama3.2', shared: true });
    expect(await listed(stack.bob)).toContain(shared.id);
    expectProblem(
      await api().delete(`/api/assistants/${shared.id}`).set(bearer(stack.bob.token)),
      403,
      'forbidden',
    );
    await api().delete(`/api/assistants/${shared.id}`).set(bearer(stack.admin.token)).expect(204);
    await api().delete(`/api/assistants/${mine.id}`).set(bearer(stack.alice.token)).expect(204);
  });
});
