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
  userGrants,
  groupMemberships,
  meResponse,
  problemDetails,
  registrationAnswer,
  revocationFeed,
  session,
  signingKeyRotation,
  userPage,
  userGroups,
  userResponse,
} from '@corral/contracts';
import { type ContractRoute, PROBE_ROUTES, contractCheck } from '@corral/test-support';
import { afterEach } from 'vitest';

/** Every route auth answers, with the contract of its answer (specific paths before `:id`). */
export const AUTH_ROUTES: readonly ContractRoute[] = [
  { method: 'POST', path: '/api/auth/register', body: registrationAnswer },
  { method: 'POST', path: '/api/auth/login', body: session },
  { method: 'POST', path: '/api/auth/refresh', body: session },
  { method: 'POST', path: '/api/auth/logout', body: null },
  { method: 'POST', path: '/api/auth/password', body: session },
  { method: 'GET', path: '/api/auth/me', body: meResponse },
  { method: 'GET', path: '/api/auth/config', body: authPublicConfig },
  // Browser navigations: 302 to the IdP, to the app, or to the web's sign-in error page.
  { method: 'GET', path: '/api/auth/oidc/login', body: null },
  { method: 'GET', path: '/api/auth/oidc/callback', body: null },
  { method: 'GET', path: '/api/auth/oidc/logout', body: null },
  { method: 'POST', path: '/api/auth/introspect', body: introspectionResult },
  { method: 'GET', path: '/api/auth/revocations', body: revocationFeed },
  { method: 'GET', path: '/api/auth/users/:id/grants', body: userGrants },
  { method: 'GET', path: '/api/auth/groups/members', body: groupMemberships },
  { method: 'GET', path: '/api/auth/api-keys', body: apiKeyList },
  { method: 'POST', path: '/api/auth/api-keys', body: createdApiKey },
  { method: 'DELETE', path: '/api/auth/api-keys/:id', body: null },
  { method: 'GET', path: '/api/auth/admin/users', body: userPage },
  { method: 'GET', path: '/api/auth/admin/users/:id/groups', body: userGroups },
  { method: 'GET', path: '/api/auth/admin/groups', body: groupList },
  { method: 'POST', path: '/api/auth/admin/groups', body: groupResponse },
  { method: 'GET', path: '/api/auth/admin/groups/:id/members', body: groupMembers },
  { method: 'PUT', path: '/api/auth/admin/groups/:id/limits', body: groupResponse },
  { method: 'PUT', path: '/api/auth/admin/groups/:id/members/:userId', body: groupResponse },
  { method: 'DELETE', path: '/api/auth/admin/groups/:id/members/:userId', body: null },
  { method: 'GET', path: '/api/auth/admin/groups/:id', body: groupResponse },
  { method: 'PATCH', path: '/api/auth/admin/groups/:id', body: groupResponse },
  { method: 'DELETE', path: '/api/auth/admin/groups/:id', body: null },
  { method: 'GET', path: '/api/auth/admin/users/:id/api-keys', body: apiKeyList },
  { method: 'POST', path: '/api/auth/admin/users/:id/api-keys', body: createdApiKey },
  { method: 'POST', path: '/api/auth/admin/users/:id/activate', body: userResponse },
  { method: 'POST', path: '/api/auth/admin/users/:id/disable', body: userResponse },
  { method: 'PUT', path: '/api/auth/admin/users/:id/role', body: userResponse },
  { method: 'POST', path: '/api/auth/admin/users/:id/password', body: null },
  { method: 'GET', path: '/api/auth/admin/users/:id', body: userResponse },
  { method: 'POST', path: '/api/auth/admin/keys/rotate', body: signingKeyRotation },
  { method: 'GET', path: '/api/auth/admin/audit/export', body: null, lines: auditEvent },
  { method: 'GET', path: '/api/auth/admin/audit', body: auditPage },
  // JWKS (RFC 7517) and OpenID discovery: standard documents jose and OIDC clients read.
  { method: 'GET', path: '/.well-known/jwks.json', body: null },
  { method: 'GET', path: '/.well-known/openid-configuration', body: null },
  ...PROBE_ROUTES,
];

/** Every auth this file's tests serve answers through this check; each test ends with it clean. */
export const contract = contractCheck(AUTH_ROUTES, problemDetails);

afterEach(() => contract.assertClean());
