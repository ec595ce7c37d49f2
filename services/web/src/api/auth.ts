import {
  apiKeyList,
  auditPage,
  authPublicConfig,
  createdApiKey,
  groupList,
  groupMembers,
  groupResponse,
  meResponse,
  registrationAnswer,
  session as sessionSchema,
  userPage,
  userGroups,
  userResponse,
} from '@corral/contracts';
import type { GroupLimitsPatch } from '@corral/contracts';
import type { ApiClient } from './http.js';
import type { Page, Role, User, UserStatus } from './types.js';

/** The most users one page of auth's admin list holds (its maximum). */
const USERS_PAGE = 200;
/** Pages read before a lookup settles for what it found (10,000 users). */
const USERS_MAX_PAGES = 50;

/** auth's routes under /api/auth. */
export function authApi(http: ApiClient) {
  return {
    async login(email: string, password: string): Promise<User> {
      const session = await http.json(sessionSchema, '/api/auth/login', {
        body: { email, password },
        auth: false,
      });
      http.acceptSession(session);
      return session.user;
    },
    /** auth answers the same whether or not the address has an account (it does not say who does). */
    async register(input: {
      email: string;
      password: string;
      name?: string;
      registrationCode?: string;
    }): Promise<void> {
      await http.json(registrationAnswer, '/api/auth/register', { body: input, auth: false });
    },
    /** What the sign-in page offers: password form, registration, the identity provider's button. */
    config: () => http.json(authPublicConfig, '/api/auth/config', { auth: false }),
    async logout(): Promise<void> {
      try {
        await http.request('/api/auth/logout', { method: 'POST', auth: false });
      } finally {
        http.endSession('signed-out');
      }
    },
    /** Reload: the refresh cookie, if any, becomes a session. */
    restore: () => http.refresh(),
    me: async () => (await http.json(meResponse, '/api/auth/me')).user,
    /** Every other session ends; this one continues with the new session auth returns. */
    async changePassword(currentPassword: string, newPassword: string): Promise<User> {
      const next = await http.json(sessionSchema, '/api/auth/password', {
        body: { currentPassword, newPassword },
      });
      http.acceptSession(next);
      return next.user;
    },

    listApiKeys: async () => (await http.json(apiKeyList, '/api/auth/api-keys')).items,
    createApiKey: (input: { name: string; expiresAt: string | null }) =>
      http.json(createdApiKey, '/api/auth/api-keys', { body: input }),
    revokeApiKey: async (id: string): Promise<void> => {
      await http.request(`/api/auth/api-keys/${encodeURIComponent(id)}`, { method: 'DELETE' });
    },

    admin: {
      users: (query: { q?: string; status?: UserStatus; cursor?: string }) =>
        http.json(userPage, '/api/auth/admin/users', { query: { ...query, limit: 50 } }),
      /**
       * The users with these ids, for views that only have ids (usage, audit). auth's list has no
       * id filter, so it is read in big pages until every id is found or the list ends; an id not
       * in the result belongs to no user.
       */
      async findUsers(ids: Iterable<string>): Promise<Map<string, User>> {
        const wanted = new Set(ids);
        const found = new Map<string, User>();
        let cursor: string | null = null;
        for (let page = 0; wanted.size > 0 && page < USERS_MAX_PAGES; page += 1) {
          const body: Page<User> = await http.json(userPage, '/api/auth/admin/users', {
            query: { limit: USERS_PAGE, cursor },
          });
          for (const user of body.items) {
            if (wanted.delete(user.id)) found.set(user.id, user);
          }
          cursor = body.nextCursor;
          if (!cursor) break;
        }
        return found;
      },
      activate: async (id: string) =>
        (await http.json(userResponse, `/api/auth/admin/users/${id}/activate`, { method: 'POST' })).user,
      disable: async (id: string) =>
        (await http.json(userResponse, `/api/auth/admin/users/${id}/disable`, { method: 'POST' })).user,
      setRole: async (id: string, role: Role) =>
        (await http.json(userResponse, `/api/auth/admin/users/${id}/role`, { method: 'PUT', body: { role } }))
          .user,
      groups: async () => (await http.json(groupList, '/api/auth/admin/groups')).items,
      createGroup: async (name: string) =>
        (await http.json(groupResponse, '/api/auth/admin/groups', { body: { name } })).group,
      renameGroup: async (id: string, name: string) =>
        (await http.json(groupResponse, `/api/auth/admin/groups/${id}`, { method: 'PATCH', body: { name } }))
          .group,
      deleteGroup: async (id: string): Promise<void> => {
        await http.request(`/api/auth/admin/groups/${id}`, { method: 'DELETE' });
      },
      groupMembers: async (id: string) =>
        (await http.json(groupMembers, `/api/auth/admin/groups/${id}/members`)).items,
      addGroupMember: async (id: string, userId: string) =>
        (await http.json(groupResponse, `/api/auth/admin/groups/${id}/members/${userId}`, { method: 'PUT' }))
          .group,
      removeGroupMember: async (id: string, userId: string): Promise<void> => {
        await http.request(`/api/auth/admin/groups/${id}/members/${userId}`, { method: 'DELETE' });
      },
      setGroupLimits: async (id: string, patch: GroupLimitsPatch) =>
        (
          await http.json(groupResponse, `/api/auth/admin/groups/${id}/limits`, {
            method: 'PUT',
            body: patch,
          })
        ).group,
      groupsOfUser: async (id: string) =>
        (await http.json(userGroups, `/api/auth/admin/users/${id}/groups`)).items,
      audit: (query: { before?: string; action?: string }) =>
        http.json(auditPage, '/api/auth/admin/audit', { query: { ...query, limit: 100 } }),
    },
  };
}
