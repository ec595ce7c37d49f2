import { randomUUID } from 'node:crypto';
import { AppError } from '@corral/service-kit';
import type { AuthContext } from '../context.js';
import { type User, updateUser } from '../data/users.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { endAllSessions, issueSession, type IssuedSession } from './sessions.js';

/**
 * A signed-in user replaces their own password: the current one must be given, every session
 * (every device's refresh token, and the access tokens of each) is revoked, and the caller gets a fresh session in their place.
 */
export async function changeOwnPassword(
  ctx: AuthContext,
  user: User,
  input: { currentPassword: string; newPassword: string },
  ip: string,
): Promise<IssuedSession> {
  if (!(await verifyPassword(input.currentPassword, user.passwordHash))) {
    await ctx.audit.record({
      action: 'user.password_changed',
      outcome: 'failure',
      actorId: user.id,
      targetType: 'user',
      targetId: user.id,
      ip,
      details: { reason: 'wrong_current_password' },
    });
    throw new AppError('validation_failed', 'body.currentPassword: is not your current password');
  }
  if (input.newPassword === input.currentPassword) {
    throw new AppError('validation_failed', 'body.newPassword: must differ from the current password');
  }
  const passwordHash = await hashPassword(input.newPassword, ctx.config.PASSWORD_SCRYPT_LOG_N);
  const updated = await updateUser(ctx.db, user.id, { passwordHash, mustChangePassword: false });
  const revoked = await endAllSessions(ctx, user.id);
  await ctx.audit.record({
    action: 'user.password_changed',
    actorId: user.id,
    targetType: 'user',
    targetId: user.id,
    ip,
    details: { sessionsRevoked: revoked },
  });
  return issueSession(ctx, updated, randomUUID());
}
