import { randomBytes } from 'node:crypto';
import { type Group, groupUsageResponse, userLimitsResponse } from '@corral/contracts';
import OpenAI from 'openai';
import request from 'supertest';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  bearer,
  createApiKey,
  createConversation,
  expectProblem,
  openSse,
  signUp,
  type TestUser,
  useChatApiStack,
} from './helpers.js';

// A short cache, so "applies without a restart" is seen within the test; the default is 5 s.
const stack = useChatApiStack({
  chat: {
    env: {
      RATE_LIMIT_PER_MINUTE: '1000',
      DAILY_TOKEN_BUDGET: '0',
      MAX_CONCURRENT_STREAMS: '5',
      USER_LIMITS_CACHE_MS: '300',
    },
  },
  admin: true,
});

// Groups live in the auth service every test file shares: this file's restricted model is its own.
const TEAM_MODEL = `team-a-${randomBytes(3).toString('hex')}`;
const TEAM_MODEL_TAGGED = `${TEAM_MODEL}:latest`;

beforeAll(() => stack.sim.addModel(TEAM_MODEL));

const auth = () => request(inject('authUrl'));
/** Waiting for a cached value to expire: generous, for a loaded machine. */
const POLL = { timeout: 20_000, interval: 100 };

async function createGroup(limits: Record<string, unknown>, members: TestUser[]): Promise<Group> {
  const created = await auth()
    .post('/api/auth/admin/groups')
    .set(bearer(stack.admin.token))
    .send({ name: `group-${randomBytes(4).toString('hex')}` });
  expect(created.status, created.text).toBe(201);
  const group = (created.body as { group: Group }).group;
  await setGroupLimits(group.id, limits);
  for (const member of members) await addMember(group.id, member);
  return group;
}

async function setGroupLimits(groupId: string, limits: Record<string, unknown>): Promise<Group> {
  const res = await auth()
    .put(`/api/auth/admin/groups/${groupId}/limits`)
    .set(bearer(stack.admin.token))
    .send(limits);
  expect(res.status, res.text).toBe(200);
  return (res.body as { group: Group }).group;
}

const addMember = (groupId: string, user: TestUser) =>
  auth()
    .put(`/api/auth/admin/groups/${groupId}/members/${user.id}`)
    .set(bearer(stack.admin.token))
    .expect(200);

async function uiModels(user: TestUser): Promise<string[]> {
  const res = await request(stack.chat.url).get('/api/models').set(bearer(user.token)).expect(200);
  return (res.body as { items: Array<{ name: string }> }).items.map((model) => model.name);
}

async function v1Models(key: string): Promise<string[]> {
  const client = new OpenAI({ apiKey: key, baseURL: `${stack.chat.url}/v1`, maxRetries: 0 });
  return (await client.models.list()).data.map((model) => model.id);
}

const chatWith = (key: string, model: string) =>
  new OpenAI({ apiKey: key, baseURL: `${stack.chat.url}/v1`, maxRetries: 0 }).chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'hi' }],
  });

async function effectiveOf(user: TestUser) {
  const res = await request(stack.chat.url)
    .get(`/api/admin/users/${user.id}/limits`)
    .set(bearer(stack.admin.token))
    .expect(200);
  return userLimitsResponse.parse(res.body).effective;
}

describe('a model allowed only to a group', () => {
  it('is listed and usable by the group’s members, and 404 for everyone else (web and /v1)', async () => {
    const [member, outsider] = await Promise.all([signUp(), signUp()]);
    const group = await createGroup({ allowedModels: [TEAM_MODEL] }, [member]);

    // The member: listed in the web app and /v1, a conversation on it answers, and so does /v1.
    expect(await uiModels(member)).toContain(TEAM_MODEL_TAGGED);
    expect(await uiModels(member)).toContain('llama3.2:latest');
    const memberKey = await createApiKey(member);
    expect(await v1Models(memberKey)).toContain(TEAM_MODEL_TAGGED);
    const conversation = await createConversation(stack.chat, member, { model: TEAM_MODEL });
    const events = await (
      await openSse(`${stack.chat.url}/api/conversations/${conversation.id}/messages`, member.token, {
        content: 'hi',
      })
    ).rest();
    expect(events.at(-1)?.event).toBe('done');
    const completion = await chatWith(memberKey, TEAM_MODEL);
    expect(completion.choices[0]?.message.content).toBeTruthy();
    expect((await effectiveOf(member)).groups).toEqual([group.name]);

    // Everyone else: not listed, and 404 on both routes; other models are theirs as before.
    expect(await uiModels(outsider)).not.toContain(TEAM_MODEL_TAGGED);
    expect(await uiModels(outsider)).toContain('llama3.2:latest');
    const outsiderKey = await createApiKey(outsider);
    expect(await v1Models(outsiderKey)).not.toContain(TEAM_MODEL_TAGGED);
    expectProblem(
      await request(stack.chat.url)
        .post('/api/conversations')
        .set(bearer(outsider.token))
        .send({ model: TEAM_MODEL }),
      404,
      'model_not_found',
    );
    const own = await createConversation(stack.chat, outsider, { model: 'llama3.2' });
    expectProblem(
      await request(stack.chat.url)
        .post(`/api/conversations/${own.id}/messages`)
        .set(bearer(outsider.token))
        .send({ content: 'hi', model: TEAM_MODEL }),
      404,
      'model_not_found',
    );
    await expect(chatWith(outsiderKey, TEAM_MODEL)).rejects.toBeInstanceOf(OpenAI.NotFoundError);

    // A member's API key keeps its own, narrower allowlist.
    const narrowKey = await createApiKey(member, ['llama3.2']);
    expect(await v1Models(narrowKey)).not.toContain(TEAM_MODEL_TAGGED);
    await expect(chatWith(narrowKey, TEAM_MODEL)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('follows membership and the group’s models without a restart', async () => {
    const [member, later] = await Promise.all([signUp(), signUp()]);
    const group = await createGroup({ allowedModels: [TEAM_MODEL] }, [member]);
    expect(await uiModels(later)).not.toContain(TEAM_MODEL_TAGGED);

    // Joining the group grants the model once the cached limits expire.
    await addMember(group.id, later);
    await expect.poll(() => uiModels(later), POLL).toContain(TEAM_MODEL_TAGGED);

    // Leaving it takes the model away again.
    await auth()
      .delete(`/api/auth/admin/groups/${group.id}/members/${later.id}`)
      .set(bearer(stack.admin.token))
      .expect(204);
    await expect.poll(() => uiModels(later), POLL).not.toContain(TEAM_MODEL_TAGGED);

    // An admin naming the model in the user's own allowlist lets them use it too (at once).
    const setOwn = await request(stack.chat.url)
      .put(`/api/admin/users/${later.id}/limits`)
      .set(bearer(stack.admin.token))
      .send({ allowedModels: [TEAM_MODEL, 'llama3.2'] });
    expect(setOwn.status, setOwn.text).toBe(200);
    expect(await uiModels(later)).toContain(TEAM_MODEL_TAGGED);
  });
});

describe('a group’s limits', () => {
  it('holds its members to the group’s daily token budget, and no one else', async () => {
    const [member, outsider] = await Promise.all([signUp(), signUp()]);
    const group = await createGroup({ dailyTokenBudget: 20 }, [member]);
    const conversation = await createConversation(stack.chat, member);
    const events = await (
      await openSse(`${stack.chat.url}/api/conversations/${conversation.id}/messages`, member.token, {
        content: 'spend it',
      })
    ).rest();
    expect(events.at(-1)?.event).toBe('done');
    expectProblem(
      await request(stack.chat.url)
        .post(`/api/conversations/${conversation.id}/messages`)
        .set(bearer(member.token))
        .send({ content: 'more' }),
      429,
      'quota_exceeded',
    );
    await expect(chatWith(await createApiKey(member), 'llama3.2')).rejects.toMatchObject({
      status: 429,
      code: 'insufficient_quota',
    });
    const usage = await request(stack.chat.url).get('/api/usage').set(bearer(member.token)).expect(200);
    expect(usage.body.dailyTokenBudget).toBe(20);

    // The deployment has no budget: the outsider's replies go on.
    const outsiderKey = await createApiKey(outsider);
    await chatWith(outsiderKey, 'llama3.2');
    await chatWith(outsiderKey, 'llama3.2');

    // Admin → Usage by group: the member's tokens count under the group; a user may not look.
    const byGroup = await request(stack.chat.url)
      .get('/api/admin/usage/groups?days=1')
      .set(bearer(stack.admin.token))
      .expect(200);
    const row = groupUsageResponse.parse(byGroup.body).items.find((item) => item.groupId === group.id);
    expect(row).toMatchObject({ name: group.name, members: 1, requests: 1 });
    expect(row!.promptTokens + row!.completionTokens).toBe(usage.body.tokensUsedToday);
    expectProblem(
      await request(stack.chat.url).get('/api/admin/usage/groups').set(bearer(member.token)),
      403,
      'forbidden',
    );
  });

  it('holds its members to the group’s requests per minute; the most generous group wins, the user’s own value over both', async () => {
    const [member, outsider] = await Promise.all([signUp(), signUp()]);
    const strict = await createGroup({ requestsPerMinute: 2 }, [member]);
    const key = await createApiKey(member);
    await chatWith(key, 'llama3.2');
    await chatWith(key, 'llama3.2');
    await expect(chatWith(key, 'llama3.2')).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    const outsiderKey = await createApiKey(outsider);
    for (let i = 0; i < 3; i += 1) await chatWith(outsiderKey, 'llama3.2');

    // A second, more generous group; then the user's own value.
    await createGroup({ requestsPerMinute: 50, maxConcurrentStreams: 0 }, [member]);
    await expect.poll(async () => (await effectiveOf(member)).requestsPerMinute, POLL).toBe(50);
    const effective = await effectiveOf(member);
    expect(effective.maxConcurrentStreams).toBe(0);
    expect(effective.groups).toHaveLength(2);
    await chatWith(key, 'llama3.2');

    await request(stack.chat.url)
      .put(`/api/admin/users/${member.id}/limits`)
      .set(bearer(stack.admin.token))
      .send({ requestsPerMinute: 7 })
      .expect(200);
    expect((await effectiveOf(member)).requestsPerMinute).toBe(7);

    // A group's own change applies without a restart too.
    await setGroupLimits(strict.id, { requestsPerMinute: 100 });
    await request(stack.chat.url)
      .put(`/api/admin/users/${member.id}/limits`)
      .set(bearer(stack.admin.token))
      .send({ requestsPerMinute: null })
      .expect(200);
    await expect.poll(async () => (await effectiveOf(member)).requestsPerMinute, POLL).toBe(100);
  });
});
