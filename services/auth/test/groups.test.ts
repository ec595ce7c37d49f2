// Admin-made groups over HTTP: create, rename, members, delete; the error paths; who may.
import { groupList, groupMembers, groupResponse, userGroups } from '@corral/contracts';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { bearer, createActiveUser, expectProblem, useAuthStack, userIdOf } from './helpers.js';

const stack = useAuthStack();
const asAdmin = () => bearer(stack.admin.accessToken);

async function newGroup(name: string) {
  const res = await request(stack.auth.url).post('/api/auth/admin/groups').set(asAdmin()).send({ name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return groupResponse.parse(res.body).group;
}

describe('groups: happy path', () => {
  it('an admin creates a group, adds and removes a member, renames and deletes it', async () => {
    const { url } = stack.auth;
    const group = await newGroup('  Research  ');
    expect(group).toMatchObject({ name: 'Research', source: 'admin', memberCount: 0 });

    const member = await createActiveUser(url, stack.admin);
    const added = await request(url)
      .put(`/api/auth/admin/groups/${group.id}/members/${member.user.id}`)
      .set(asAdmin())
      .expect(200);
    expect(groupResponse.parse(added.body).group.memberCount).toBe(1);
    // Adding twice changes nothing.
    await request(url)
      .put(`/api/auth/admin/groups/${group.id}/members/${member.user.id}`)
      .set(asAdmin())
      .expect(200);

    const members = await request(url)
      .get(`/api/auth/admin/groups/${group.id}/members`)
      .set(asAdmin())
      .expect(200);
    expect(groupMembers.parse(members.body).items.map((user) => user.id)).toEqual([member.user.id]);
    const ofUser = await request(url)
      .get(`/api/auth/admin/users/${member.user.id}/groups`)
      .set(asAdmin())
      .expect(200);
    expect(userGroups.parse(ofUser.body).items.map((g) => g.name)).toEqual(['Research']);

    const renamed = await request(url)
      .patch(`/api/auth/admin/groups/${group.id}`)
      .set(asAdmin())
      .send({ name: 'Research & Development' })
      .expect(200);
    expect(groupResponse.parse(renamed.body).group.name).toBe('Research & Development');

    await request(url)
      .delete(`/api/auth/admin/groups/${group.id}/members/${member.user.id}`)
      .set(asAdmin())
      .expect(204);
    await request(url).delete(`/api/auth/admin/groups/${group.id}`).set(asAdmin()).expect(204);
    const list = await request(url).get('/api/auth/admin/groups').set(asAdmin()).expect(200);
    expect(groupList.parse(list.body).items.map((g) => g.id)).not.toContain(group.id);

    const audit = await stack.auth.ctx.db.prisma.auditEvent.findMany({ where: { targetId: group.id } });
    expect(audit.map((event) => event.action).sort()).toEqual(
      [
        'group.created',
        'group.deleted',
        'group.member_added',
        'group.member_removed',
        'group.renamed',
      ].sort(),
    );
  });
});

describe('groups: error paths', () => {
  it('refuses a taken name (409), a blank or too long one (400), unknown ids (404)', async () => {
    const { url } = stack.auth;
    const group = await newGroup('Finance');
    expectProblem(
      await request(url).post('/api/auth/admin/groups').set(asAdmin()).send({ name: 'Finance' }),
      409,
      'conflict',
    );
    expectProblem(
      await request(url).post('/api/auth/admin/groups').set(asAdmin()).send({ name: '   ' }),
      400,
      'validation_failed',
    );
    expectProblem(
      await request(url)
        .post('/api/auth/admin/groups')
        .set(asAdmin())
        .send({ name: 'x'.repeat(201) }),
      400,
      'validation_failed',
    );
    expectProblem(
      await request(url)
        .post('/api/auth/admin/groups')
        .set(asAdmin())
        .send({ name: 'ok', models: ['x'] }),
      400,
      'validation_failed',
    );
    const missing = '00000000-0000-4000-8000-000000000000';
    expectProblem(
      await request(url).get(`/api/auth/admin/groups/${missing}`).set(asAdmin()),
      404,
      'not_found',
    );
    expectProblem(
      await request(url).put(`/api/auth/admin/groups/${group.id}/members/${missing}`).set(asAdmin()),
      404,
      'not_found',
    );
    const adminId = await userIdOf(url, stack.admin, 'admin@corral.test');
    expectProblem(
      await request(url).delete(`/api/auth/admin/groups/${group.id}/members/${adminId}`).set(asAdmin()),
      404,
      'not_found',
    );
  });

  it('does not let an admin edit a group synced from the identity provider (409)', async () => {
    const { url, ctx } = stack.auth;
    const synced = await ctx.db.prisma.group.create({ data: { name: 'idp-staff', source: 'oidc' } });
    const member = await createActiveUser(url, stack.admin);
    expectProblem(
      await request(url).put(`/api/auth/admin/groups/${synced.id}/members/${member.user.id}`).set(asAdmin()),
      409,
      'conflict',
    );
    expectProblem(
      await request(url).patch(`/api/auth/admin/groups/${synced.id}`).set(asAdmin()).send({ name: 'other' }),
      409,
      'conflict',
    );
  });
});

describe('groups: security', () => {
  it('answers 401 without a token and 403 to a non-admin', async () => {
    const { url } = stack.auth;
    expectProblem(await request(url).get('/api/auth/admin/groups'), 401, 'unauthorized');
    const user = await createActiveUser(url, stack.admin);
    expectProblem(
      await request(url).get('/api/auth/admin/groups').set(bearer(user.accessToken)),
      403,
      'forbidden',
    );
    expectProblem(
      await request(url).post('/api/auth/admin/groups').set(bearer(user.accessToken)).send({ name: 'mine' }),
      403,
      'forbidden',
    );
  });
});
