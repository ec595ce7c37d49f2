import type { ApiClient } from './http.js';
import type { ApiKey, AuditEvent, CreatedApiKey, Page, Role, Session, User, UserStatus } from './types.js';

/** auth's routes under /api/auth. */
export function authApi(http: ApiClient) {
  return {
    async login(email: string, password: string): Promise<User> {
      const session = await http.request<Session>('/api/auth/login', {
        body: { email, password },
        auth: false,
      });
      http.acceptSession(session);
      return session.user;
    },
    async register(input: { email: string; password: string; name?: string; registrationCode?: string }) {
      return (await http.request<{ user: User }>('/api/auth/register', { body: input, auth: false })).user;
    },
    async logout(): Promise<void> {
      try {
        await http.request('/api/auth/logout', { method: 'POST', auth: false });
      } finally {
        http.endSession('signed-out');
      }
    },
    /** Reload: the refresh cookie, if any, becomes a session. */
    restore: () => http.refresh(),
    me: async () => (await http.request<{ user: User }>('/api/auth/me')).user,

    listApiKeys: async () => (await http.request<{ items: ApiKey[] }>('/api/auth/api-keys')).items,
    createApiKey: (input: { name: string; expiresAt: string | null }) =>
      http.request<CreatedApiKey>('/api/auth/api-keys', { body: input }),
    revokeApiKey: (id: string) =>
      http.request<void>(`/api/auth/api-keys/${encodeURIComponent(id)}`, { method: 'DELETE' }),

    admin: {
      users: (query: { q?: string; status?: UserStatus; cursor?: string }) =>
        http.request<Page<User>>('/api/auth/admin/users', { query: { ...query, limit: 50 } }),
      activate: async (id: string) =>
        (await http.request<{ user: User }>(`/api/auth/admin/users/${id}/activate`, { method: 'POST' })).user,
      disable: async (id: string) =>
        (await http.request<{ user: User }>(`/api/auth/admin/users/${id}/disable`, { method: 'POST' })).user,
      setRole: async (id: string, role: Role) =>
        (
          await http.request<{ user: User }>(`/api/auth/admin/users/${id}/role`, {
            method: 'PUT',
            body: { role },
          })
        ).user,
      audit: (query: { before?: string; action?: string }) =>
        http.request<Page<AuditEvent>>('/api/auth/admin/audit', { query: { ...query, limit: 100 } }),
    },
  };
}
