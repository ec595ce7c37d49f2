import {
  apiKeyList,
  auditEvent,
  auditPage,
  authPublicConfig,
  createdApiKey,
  groupList,
  groupMembers,
  groupResponse,
  introspectionResult,
  meResponse,
  problemDetails,
  registrationAnswer,
  revocationFeed,
  session,
  signingKeyRotation,
  userGroups,
  userGrants,
  groupMemberships,
  userPage,
  userResponse,
} from '@corral/contracts';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { AUTH_ROUTES, contract } from './contract.js';
import { SERVICE_TOKEN, bearer, createActiveUser, userIdOf, useAuthStack } from './helpers.js';

const stack = useAuthStack();
const api = () => request(stack.auth.url);

describe('auth answers as @corral/contracts says', () => {
  it('sessions, the caller, API keys and introspection', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const me = meResponse.parse(
      (await api().get('/api/auth/me').set(bearer(user.accessToken)).expect(200)).body,
    );
    expect(me).toMatchObject({ user: { id: user.user.id }, via: 'access_token' });
    const refreshed = session.parse(
      (await api().post('/api/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200)).body,
    );

    const auth = bearer(refreshed.accessToken);
    const created = createdApiKey.parse(
      (await api().post('/api/auth/api-keys').set(auth).send({ name: 'contract' }).expect(201)).body,
    );
    const listed = apiKeyList.parse((await api().get('/api/auth/api-keys').set(auth).expect(200)).body);
    expect(listed.items.map((key) => key.id)).toEqual([created.apiKey.id]);
    const active = introspectionResult.parse(
      (
        await api()
          .post('/api/auth/introspect')
          .set(bearer(SERVICE_TOKEN))
          .send({ token: created.key })
          .expect(200)
      ).body,
    );
    expect(active).toMatchObject({ active: true, keyId: created.apiKey.id });
    await api().delete(`/api/auth/api-keys/${created.apiKey.id}`).set(auth).expect(204);
    revocationFeed.parse(
      (await api().get('/api/auth/revocations').set(bearer(SERVICE_TOKEN)).expect(200)).body,
    );
    session.parse(
      (
        await api()
          .post('/api/auth/password')
          .set(auth)
          .send({ currentPassword: 'user-password-123', newPassword: 'a-changed-password-42' })
          .expect(200)
      ).body,
    );
    expect(
      introspectionResult.parse(
        (await api().post('/api/auth/introspect').set(bearer(SERVICE_TOKEN)).send({ token: created.key }))
          .body,
      ),
    ).toEqual({ active: false });
  });

  it('the admin views: users, their keys, role and status changes, the audit log and key rotation', async () => {
    const admin = bearer(stack.admin.accessToken);
    registrationAnswer.parse(
      (
        await api()
          .post('/api/auth/register')
          .send({ email: 'contract@corral.test', password: 'contract-pass-123' })
          .expect(202)
      ).body,
    );
    const id = await userIdOf(stack.auth.url, stack.admin, 'contract@corral.test');
    userPage.parse((await api().get('/api/auth/admin/users').set(admin).expect(200)).body);
    userResponse.parse((await api().get(`/api/auth/admin/users/${id}`).set(admin).expect(200)).body);
    userResponse.parse(
      (await api().post(`/api/auth/admin/users/${id}/activate`).set(admin).expect(200)).body,
    );
    userResponse.parse(
      (await api().put(`/api/auth/admin/users/${id}/role`).set(admin).send({ role: 'admin' })).body,
    );
    userResponse.parse((await api().post(`/api/auth/admin/users/${id}/disable`).set(admin).expect(200)).body);
    createdApiKey.parse(
      (await api().post(`/api/auth/admin/users/${id}/api-keys`).set(admin).send({ name: 'svc' }).expect(201))
        .body,
    );
    apiKeyList.parse((await api().get(`/api/auth/admin/users/${id}/api-keys`).set(admin).expect(200)).body);
    signingKeyRotation.parse((await api().post('/api/auth/admin/keys/rotate').set(admin).expect(201)).body);

    const audit = auditPage.parse((await api().get('/api/auth/admin/audit').set(admin).expect(200)).body);
    expect(audit.items.map((event) => event.action)).toContain('user.registered');
    const exported = (await api().get('/api/auth/admin/audit/export').set(admin).expect(200)).text;
    for (const line of exported.trim().split('\n')) auditEvent.parse(JSON.parse(line));
  });

  it('the public sign-in config and the groups admin views', async () => {
    authPublicConfig.parse((await api().get('/api/auth/config').expect(200)).body);
    const admin = bearer(stack.admin.accessToken);
    const member = await createActiveUser(stack.auth.url, stack.admin);
    const { group } = groupResponse.parse(
      (await api().post('/api/auth/admin/groups').set(admin).send({ name: 'contract' }).expect(201)).body,
    );
    groupList.parse((await api().get('/api/auth/admin/groups').set(admin).expect(200)).body);
    groupResponse.parse((await api().get(`/api/auth/admin/groups/${group.id}`).set(admin).expect(200)).body);
    groupResponse.parse(
      (
        await api()
          .patch(`/api/auth/admin/groups/${group.id}`)
          .set(admin)
          .send({ name: 'contract 2' })
          .expect(200)
      ).body,
    );
    groupResponse.parse(
      (await api().put(`/api/auth/admin/groups/${group.id}/members/${member.user.id}`).set(admin).expect(200))
        .body,
    );
    groupMembers.parse(
      (await api().get(`/api/auth/admin/groups/${group.id}/members`).set(admin).expect(200)).body,
    );
    userGroups.parse(
      (await api().get(`/api/auth/admin/users/${member.user.id}/groups`).set(admin).expect(200)).body,
    );
    groupResponse.parse(
      (
        await api()
          .put(`/api/auth/admin/groups/${group.id}/limits`)
          .set(admin)
          .send({ allowedModels: ['contract-model'], requestsPerMinute: 5 })
          .expect(200)
      ).body,
    );
    userGrants.parse(
      (await api().get(`/api/auth/users/${member.user.id}/grants`).set(bearer(SERVICE_TOKEN)).expect(200))
        .body,
    );
    const memberships = groupMemberships.parse(
      (await api().get('/api/auth/groups/members').set(bearer(SERVICE_TOKEN)).expect(200)).body,
    );
    expect(memberships.items.find((g) => g.id === group.id)?.userIds).toEqual([member.user.id]);
  });

  it('errors are problem+json with the code’s own status', async () => {
    const unknown = await api().get('/api/auth/me');
    expect(problemDetails.parse(JSON.parse(unknown.text))).toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
    const invalid = await api().post('/api/auth/register').send({ email: 'not-an-email', password: 'x' });
    expect(problemDetails.parse(JSON.parse(invalid.text))).toMatchObject({ code: 'validation_failed' });
  });

  it('checked every answer above, on each route of the contract table but the standard documents and probes', () => {
    const seen = new Set([...contract.checked.keys()].map((key) => key.split(' ').slice(0, 2).join(' ')));
    const owned = AUTH_ROUTES.filter((route) => route.body !== null || route.lines);
    const missing = owned.map((route) => `${route.method} ${route.path}`).filter((route) => !seen.has(route));
    expect(missing).toEqual([]);
    expect(contract.violations).toEqual([]);
  });
});
