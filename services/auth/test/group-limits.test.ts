// What a group carries (models and limits) over HTTP: set by admins, read by chat-api with the
// internal service token; the error paths; who may.
import { groupResponse, userGrants } from '@corral/contracts';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { SERVICE_TOKEN, bearer, createActiveUser, expectProblem, useAuthStack } from './helpers.js';

const stack = useAuthStack();
const asAdmin = () => bearer(stack.admin.accessToken);

async function newGroup(name: string) {
  const res = await request(stack.auth.url).post('/api/auth/admin/groups').set(asAdmin()).send({ name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return groupResponse.parse(res.body).group;
}

const setLimits = (groupId: string, body: object) =>
  request(stack.auth.url).put(`/api/auth/admin/groups/${groupId}/limits`).set(asAdmin()).send(body);

const grantsOf = (userId: string, token = SERVICE_TOKEN) =>
  request(stack.auth.url).get(`/api/auth/users/${userId}/grants`).set(bearer(token));

describe('group limits: happy path', () => {
  it('an admin sets a group’s models and limits; chat-api reads a member’s grants and every restricted model', async () => {
    const { url } = stack.auth;
    const group = await newGroup('Team A');
    expect(group).toMatchObject({
      allowedModels: [],
      requestsPerMinute: null,
      dailyTokenBudget: null,
      maxConcurrentStreams: null,
    });
    const set = await setLimits(group.id, {
      allowedModels: ['team-model', 'team-model', 'llama3.2'],
      requestsPerMinute: 30,
      dailyTokenBudget: 0,
    }).expect(200);
    expect(groupResponse.parse(set.body).group).toMatchObject({
      allowedModels: ['team-model', 'llama3.2'],
      requestsPerMinute: 30,
      dailyTokenBudget: 0,
      maxConcurrentStreams: null,
    });
    // Fields left out are kept; null clears one.
    const cleared = await setLimits(group.id, { requestsPerMinute: null, maxConcurrentStreams: 4 }).expect(
      200,
    );
    expect(groupResponse.parse(cleared.body).group).toMatchObject({
      allowedModels: ['team-model', 'llama3.2'],
      requestsPerMinute: null,
      maxConcurrentStreams: 4,
    });

    const member = await createActiveUser(url, stack.admin);
    const outsider = await createActiveUser(url, stack.admin);
    await request(url)
      .put(`/api/auth/admin/groups/${group.id}/members/${member.user.id}`)
      .set(asAdmin())
      .expect(200);
    const mine = userGrants.parse((await grantsOf(member.user.id).expect(200)).body);
    expect(mine.groups).toEqual([
      expect.objectContaining({
        name: 'Team A',
        allowedModels: ['team-model', 'llama3.2'],
        maxConcurrentStreams: 4,
      }),
    ]);
    expect(mine.restrictedModels).toEqual(expect.arrayContaining(['team-model', 'llama3.2']));
    const theirs = userGrants.parse((await grantsOf(outsider.user.id).expect(200)).body);
    expect(theirs.groups).toEqual([]);
    expect(theirs.restrictedModels).toEqual(mine.restrictedModels);

    const audit = await stack.auth.ctx.db.prisma.auditEvent.findMany({
      where: { targetId: group.id, action: 'group.limits_changed' },
    });
    expect(audit).toHaveLength(2);
  });

  it('sets what a synced group carries (the IdP decides its members, Corral what it grants)', async () => {
    const synced = await stack.auth.ctx.db.prisma.group.create({ data: { name: 'idp-eng', source: 'oidc' } });
    const res = await setLimits(synced.id, { dailyTokenBudget: 100000 }).expect(200);
    expect(groupResponse.parse(res.body).group).toMatchObject({ source: 'oidc', dailyTokenBudget: 100000 });
  });
});

describe('group limits: error paths', () => {
  it('refuses negative or fractional limits, unknown fields, blank model names (400) and unknown groups (404)', async () => {
    const group = await newGroup('Limits errors');
    for (const body of [
      { requestsPerMinute: -1 },
      { dailyTokenBudget: 1.5 },
      { maxConcurrentStreams: 'many' },
      { allowedModels: ['  '] },
      { allowedModels: null },
      { models: ['x'] },
    ]) {
      expectProblem(await setLimits(group.id, body), 400, 'validation_failed');
    }
    expectProblem(
      await setLimits('00000000-0000-4000-8000-000000000000', { requestsPerMinute: 1 }),
      404,
      'not_found',
    );
    expectProblem(await grantsOf('not-a-uuid'), 400, 'validation_failed');
  });
});

describe('group limits: security', () => {
  it('is for admins; the grants are for services holding the internal token', async () => {
    const { url } = stack.auth;
    const group = await newGroup('Limits security');
    const user = await createActiveUser(url, stack.admin);
    expectProblem(
      await request(url).put(`/api/auth/admin/groups/${group.id}/limits`).send({ requestsPerMinute: 1 }),
      401,
      'unauthorized',
    );
    expectProblem(
      await request(url)
        .put(`/api/auth/admin/groups/${group.id}/limits`)
        .set(bearer(user.accessToken))
        .send({ requestsPerMinute: 1 }),
      403,
      'forbidden',
    );
    expectProblem(await grantsOf(user.user.id, user.accessToken), 401, 'unauthorized');
    expectProblem(await request(url).get(`/api/auth/users/${user.user.id}/grants`), 401, 'unauthorized');
    expectProblem(
      await request(url).get('/api/auth/groups/members').set(bearer(user.accessToken)),
      401,
      'unauthorized',
    );
  });
});
