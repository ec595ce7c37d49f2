import type { User } from '../src/api/index.js';

/** An active user as auth's admin API lists one; only the id and email vary between tests. */
export const testUser = (id: string, email: string): User => ({
  id,
  email,
  name: null,
  role: 'user',
  status: 'active',
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  lastLoginAt: null,
});
