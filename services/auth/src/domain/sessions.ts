import { randomUUID } from 'node:crypto';
import type { Session } from '@corral/contracts';
import { AppError } from '@corral/service-kit';
import type { AuthContext } from '../context.js';
import type { User } from '../generated/prisma/client.js';
import { randomToken, sha256Hex } from './crypto.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { normalizeEmail, toPublicUser } from './users.js';

/** What sign-in and refresh answer: the session contract its callers read. */
export type IssuedSession = Session;

// Compared against when the account does not exist, so both paths cost one scrypt.
let dummyHash: Promise<string> | undefined;

/** Checks email and password; the same answer for an unknown account and a wrong password. */
export async function signIn(
  ctx: AuthContext,
  input: { email: string; password: string },
  ip: string,
): Promise<IssuedSession> {
  const email = normalizeEmail(input.email);
  try {
    await ctx.throttle.assertAllowed(email, ip);
  } catch (error) {
    ctx.metrics.signIns.inc({ outcome: 'throttled' });
    await ctx.audit.record({
      action: 'user.sign_in',
      outcome: 'failure',
      ip,
      details: { email, reason: 'throttled' },
    });
    throw error;
  }
  const user = await ctx.prisma.user.findUnique({ where: { email } });
  dummyHash ??= hashPassword('not-a-real-password', ctx.config.PASSWORD_SCRYPT_LOG_N);
  const passwordOk = await verifyPassword(input.password, user?.passwordHash ?? (await dummyHash));
  if (!user || !passwordOk) {
    await ctx.throttle.recordFailure(email, ip);
    ctx.metrics.signIns.inc({ outcome: 'invalid_credentials' });
    await ctx.audit.record({
      action: 'user.sign_in',
      outcome: 'failure',
      actorId: user?.id ?? null,
      targetType: 'user',
      targetId: user?.id ?? null,
      ip,
      details: { email, reason: 'invalid_credentials' },
    });
    throw new AppError('invalid_credentials', 'Invalid email or password.');
  }
  await ctx.throttle.recordSuccess(email);
  if (user.status !== 'active') {
    const outcome = user.status === 'pending' ? 'pending' : 'disabled';
    ctx.metrics.signIns.inc({ outcome });
    await ctx.audit.record({
      action: 'user.sign_in',
      outcome: 'failure',
      actorId: user.id,
      targetType: 'user',
      targetId: user.id,
      ip,
      details: { reason: outcome },
    });
    throw user.status === 'pending'
      ? new AppError('account_pending', 'This account is waiting for an administrator to activate it.')
      : new AppError('account_disabled', 'This account has been disabled.');
  }
  const rehash = needsRehash(user.passwordHash, ctx.config.PASSWORD_SCRYPT_LOG_N)
    ? { passwordHash: await hashPassword(input.password, ctx.config.PASSWORD_SCRYPT_LOG_N) }
    : {};
  const signedIn = await ctx.prisma.user.update({
    where: { id: user.id },
    data: { lastLoginAt: new Date(), ...rehash },
  });
  ctx.metrics.signIns.inc({ outcome: 'success' });
  await ctx.audit.record({
    action: 'user.sign_in',
    actorId: user.id,
    targetType: 'user',
    targetId: user.id,
    ip,
  });
  return issueSession(ctx, signedIn, randomUUID());
}

/** A new access token and a new refresh token in `familyId` (a new family per sign-in). */
export async function issueSession(ctx: AuthContext, user: User, familyId: string): Promise<IssuedSession> {
  const refreshToken = randomToken(32);
  const refreshExpiresIn = ctx.config.REFRESH_TOKEN_TTL_SECONDS;
  await ctx.prisma.refreshToken.create({
    data: {
      userId: user.id,
      familyId,
      tokenHash: sha256Hex(refreshToken),
      expiresAt: new Date(Date.now() + refreshExpiresIn * 1000),
    },
  });
  const access = await ctx.accessTokens.issue(user);
  ctx.metrics.tokensIssued.inc({ kind: 'access' });
  ctx.metrics.tokensIssued.inc({ kind: 'refresh' });
  return {
    accessToken: access.token,
    tokenType: 'Bearer',
    expiresIn: access.expiresIn,
    refreshToken,
    refreshExpiresIn,
    user: toPublicUser(user),
  };
}

const invalidRefresh = () =>
  new AppError('invalid_token', 'The refresh token is invalid, expired or revoked.');

/**
 * Exchanges a refresh token for a new pair. Each token works once: presenting a used or revoked
 * one means it leaked (or was replayed), so the whole family is revoked and everyone holding it
 * must sign in again.
 */
export async function refreshSession(
  ctx: AuthContext,
  refreshToken: string,
  ip: string,
): Promise<IssuedSession> {
  const stored = await ctx.prisma.refreshToken.findUnique({
    where: { tokenHash: sha256Hex(refreshToken) },
    include: { user: true },
  });
  if (!stored) throw invalidRefresh();
  if (stored.revokedAt || stored.replacedById) {
    await revokeFamily(ctx, stored.familyId);
    await ctx.audit.record({
      action: 'session.refresh_reuse',
      outcome: 'failure',
      actorId: stored.userId,
      targetType: 'session',
      targetId: stored.familyId,
      ip,
    });
    throw invalidRefresh();
  }
  if (stored.expiresAt <= new Date() || stored.user.status !== 'active') throw invalidRefresh();

  // Claim the token atomically: of two concurrent refreshes with one token, exactly one wins.
  const nextId = randomUUID();
  const claimed = await ctx.prisma.refreshToken.updateMany({
    where: { id: stored.id, revokedAt: null, replacedById: null },
    data: { revokedAt: new Date(), replacedById: nextId },
  });
  if (claimed.count !== 1) {
    await revokeFamily(ctx, stored.familyId);
    throw invalidRefresh();
  }
  const newToken = randomToken(32);
  const refreshExpiresIn = ctx.config.REFRESH_TOKEN_TTL_SECONDS;
  await ctx.prisma.refreshToken.create({
    data: {
      id: nextId,
      userId: stored.userId,
      familyId: stored.familyId,
      tokenHash: sha256Hex(newToken),
      expiresAt: new Date(Date.now() + refreshExpiresIn * 1000),
    },
  });
  const access = await ctx.accessTokens.issue(stored.user);
  ctx.metrics.tokensIssued.inc({ kind: 'access' });
  ctx.metrics.tokensIssued.inc({ kind: 'refresh' });
  return {
    accessToken: access.token,
    tokenType: 'Bearer',
    expiresIn: access.expiresIn,
    refreshToken: newToken,
    refreshExpiresIn,
    user: toPublicUser(stored.user),
  };
}

/** Ends the session the refresh token belongs to (its whole family). Unknown tokens are ignored. */
export async function signOut(ctx: AuthContext, refreshToken: string, ip: string): Promise<void> {
  const stored = await ctx.prisma.refreshToken.findUnique({ where: { tokenHash: sha256Hex(refreshToken) } });
  if (!stored) return;
  await revokeFamily(ctx, stored.familyId);
  await ctx.audit.record({
    action: 'user.sign_out',
    actorId: stored.userId,
    targetType: 'session',
    targetId: stored.familyId,
    ip,
  });
}

async function revokeFamily(ctx: AuthContext, familyId: string): Promise<void> {
  await ctx.prisma.refreshToken.updateMany({
    where: { familyId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
}

export async function revokeAllSessions(ctx: AuthContext, userId: string): Promise<number> {
  const result = await ctx.prisma.refreshToken.updateMany({
    where: { userId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return result.count;
}
