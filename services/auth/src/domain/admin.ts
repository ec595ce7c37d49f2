import { AppError } from '@corral/service-kit';
import type { AuthContext } from '../context.js';
import { findUserById, updateUser, type User } from '../data/users.js';
import { hashPassword } from './passwords.js';
import { revokeUserTokens } from './revocation.js';
import { revokeAllSessions } from './sessions.js';

export interface Actor {
  id: string;
  ip?: string | undefined;
}

export async function findUserOr404(ctx: AuthContext, id: string): Promise<User> {
  const user = await findUserById(ctx.db, id);
  if (!user) throw new AppError('not_found', 'No such user.');
  return user;
}

/**
 * Activate or disable. Disabling revokes every refresh token; API keys stop working because
 * introspection checks the owner's status on each call.
 */
export async function setUserStatus(
  ctx: AuthContext,
  actor: Actor,
  userId: string,
  status: 'active' | 'disabled',
): Promise<User> {
  const user = await findUserOr404(ctx, userId);
  if (status === 'disabled' && user.id === actor.id) {
    throw new AppError('conflict', 'Administrators cannot disable their own account.');
  }
  const updated = await updateUser(ctx.db, userId, { status });
  const revokedSessions = status === 'disabled' ? await revokeAllSessions(ctx, userId) : 0;
  if (status === 'disabled') await revokeUserTokens(ctx, userId);
  await ctx.audit.record({
    action: status === 'active' ? 'user.activated' : 'user.disabled',
    actorId: actor.id,
    targetType: 'user',
    targetId: userId,
    ip: actor.ip,
    details: { from: user.status, to: status, revokedSessions },
  });
  return updated;
}

export async function setUserRole(
  ctx: AuthContext,
  actor: Actor,
  userId: string,
  role: 'admin' | 'user',
): Promise<User> {
  const user = await findUserOr404(ctx, userId);
  if (user.id === actor.id && role !== 'admin') {
    throw new AppError('conflict', 'Administrators cannot remove their own admin role.');
  }
  const updated = await updateUser(ctx.db, userId, { role });
  // Tokens carry the role: the old ones must not keep the old role (a demoted admin stays no admin).
  if (user.role !== role) await revokeUserTokens(ctx, userId);
  await ctx.audit.record({
    action: 'user.role_changed',
    actorId: actor.id,
    targetType: 'user',
    targetId: userId,
    ip: actor.ip,
    details: { from: user.role, to: role },
  });
  return updated;
}

/** Sets a new password and signs the user out everywhere. */
export async function resetPassword(
  ctx: AuthContext,
  actor: Actor,
  userId: string,
  password: string,
): Promise<void> {
  await findUserOr404(ctx, userId);
  const passwordHash = await hashPassword(password, ctx.config.PASSWORD_SCRYPT_LOG_N);
  await updateUser(ctx.db, userId, { passwordHash });
  const revokedSessions = await revokeAllSessions(ctx, userId);
  await revokeUserTokens(ctx, userId);
  await ctx.audit.record({
    action: 'user.password_reset',
    actorId: actor.id,
    targetType: 'user',
    targetId: userId,
    ip: actor.ip,
    details: { revokedSessions },
  });
}
