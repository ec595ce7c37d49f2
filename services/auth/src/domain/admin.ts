import { AppError } from '@corral/service-kit';
import type { AuthContext } from '../context.js';
import type { Prisma, User } from '../generated/prisma/client.js';
import { hashPassword } from './passwords.js';
import { revokeUserTokens } from './revocation.js';
import { revokeAllSessions } from './sessions.js';

export interface Actor {
  id: string;
  ip?: string | undefined;
}

export async function findUserOr404(ctx: AuthContext, id: string): Promise<User> {
  const user = await ctx.prisma.user.findUnique({ where: { id } });
  if (!user) throw new AppError('not_found', 'No such user.');
  return user;
}

export async function listUsers(
  ctx: AuthContext,
  query: {
    q?: string | undefined;
    status?: User['status'] | undefined;
    role?: User['role'] | undefined;
    limit: number;
    cursor?: string | undefined;
  },
) {
  const where: Prisma.UserWhereInput = {
    ...(query.q
      ? {
          OR: [
            { email: { contains: query.q, mode: 'insensitive' } },
            { name: { contains: query.q, mode: 'insensitive' } },
          ],
        }
      : {}),
    ...(query.status ? { status: query.status } : {}),
    ...(query.role ? { role: query.role } : {}),
  };
  const rows = await ctx.prisma.user.findMany({
    where,
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: query.limit + 1,
    ...(query.cursor ? { cursor: { id: query.cursor }, skip: 1 } : {}),
  });
  const items = rows.slice(0, query.limit);
  return { items, nextCursor: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
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
  const updated = await ctx.prisma.user.update({ where: { id: userId }, data: { status } });
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
  const updated = await ctx.prisma.user.update({ where: { id: userId }, data: { role } });
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
  await ctx.prisma.user.update({ where: { id: userId }, data: { passwordHash } });
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
