import { randomUUID } from 'node:crypto';
import type { Session } from '@corral/contracts';
import { AppError } from '@corral/service-kit';
import type { AuthContext } from '../context.js';
import {
  claimAndReplaceRefreshToken,
  findRefreshToken,
  findRefreshTokenById,
  findRefreshTokenByIdWithUser,
  findRefreshTokenWithUser,
  insertRefreshToken,
  liveFamiliesOf,
  revokeRefreshFamily,
  revokeUserRefreshTokens,
  type RefreshToken,
} from '../data/refresh-tokens.js';
import { findUserByEmail, updateUser, type User } from '../data/users.js';
import { randomToken, sha256Hex, successorToken } from './crypto.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { revokeSessionTokens } from './revocation.js';
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
  const user = await findUserByEmail(ctx.db, email);
  dummyHash ??= hashPassword('not-a-real-password', ctx.config.PASSWORD_SCRYPT_LOG_N);
  // Accounts made by the IdP have no password: compare against the dummy so they cost the same.
  const stored = user?.passwordHash.startsWith('scrypt$') ? user.passwordHash : await dummyHash;
  const passwordOk = (await verifyPassword(input.password, stored)) && stored !== (await dummyHash);
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
  const signedIn = await updateUser(ctx.db, user.id, { lastLoginAt: new Date(), ...rehash });
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
  await insertRefreshToken(ctx.db, {
    userId: user.id,
    familyId,
    tokenHash: sha256Hex(refreshToken),
    expiresAt: new Date(Date.now() + refreshExpiresIn * 1000),
  });
  const access = await ctx.accessTokens.issue(user, familyId);
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
 * must sign in again — except within REFRESH_REUSE_GRACE_SECONDS of its exchange while its
 * successor is unused (two tabs refreshing at once): then the same successor comes back.
 */
export async function refreshSession(
  ctx: AuthContext,
  refreshToken: string,
  ip: string,
): Promise<IssuedSession> {
  const stored = await findRefreshTokenWithUser(ctx.db, sha256Hex(refreshToken));
  if (!stored) throw invalidRefresh();
  if (stored.replacedById) {
    const again = await reissueWithinGrace(ctx, stored, refreshToken);
    if (again) return again;
  }
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

  // Claim the token and store its successor in one transaction: of two concurrent refreshes with
  // one token, exactly one claims it; the other waits on the row lock, then finds the successor.
  const nextId = randomUUID();
  const newToken = successorToken(refreshToken, ctx.config.SIGNING_KEY_SECRET);
  const refreshExpiresIn = ctx.config.REFRESH_TOKEN_TTL_SECONDS;
  const claimed = await claimAndReplaceRefreshToken(ctx.db, stored.id, {
    id: nextId,
    userId: stored.userId,
    familyId: stored.familyId,
    tokenHash: sha256Hex(newToken),
    expiresAt: new Date(Date.now() + refreshExpiresIn * 1000),
  });
  if (!claimed) {
    const current = await findRefreshTokenByIdWithUser(ctx.db, stored.id);
    const again = current ? await reissueWithinGrace(ctx, current, refreshToken) : undefined;
    if (again) return again;
    await revokeFamily(ctx, stored.familyId);
    throw invalidRefresh();
  }
  const access = await ctx.accessTokens.issue(stored.user, stored.familyId);
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

/** The successor of a token exchanged moments ago, if it is still unused: the same pair again (new access token). */
async function reissueWithinGrace(
  ctx: AuthContext,
  stored: RefreshToken & { user: User },
  presented: string,
): Promise<IssuedSession | undefined> {
  if (!stored.replacedById || !stored.revokedAt || stored.user.status !== 'active') return undefined;
  if (Date.now() - stored.revokedAt.getTime() > ctx.config.REFRESH_REUSE_GRACE_SECONDS * 1000)
    return undefined;
  const successor = await findRefreshTokenById(ctx.db, stored.replacedById);
  const token = successorToken(presented, ctx.config.SIGNING_KEY_SECRET);
  if (
    !successor ||
    successor.revokedAt ||
    successor.replacedById ||
    successor.expiresAt <= new Date() ||
    successor.tokenHash !== sha256Hex(token)
  ) {
    return undefined;
  }
  const access = await ctx.accessTokens.issue(stored.user, successor.familyId);
  ctx.metrics.tokensIssued.inc({ kind: 'access' });
  return {
    accessToken: access.token,
    tokenType: 'Bearer',
    expiresIn: access.expiresIn,
    refreshToken: token,
    refreshExpiresIn: Math.max(1, Math.floor((successor.expiresAt.getTime() - Date.now()) / 1000)),
    user: toPublicUser(stored.user),
  };
}

/** Ends the session the refresh token belongs to (its whole family). Unknown tokens are ignored. */
export async function signOut(ctx: AuthContext, refreshToken: string, ip: string): Promise<void> {
  const stored = await findRefreshToken(ctx.db, sha256Hex(refreshToken));
  if (!stored) return;
  await revokeFamily(ctx, stored.familyId);
  await revokeSessionTokens(ctx, stored.userId, stored.familyId);
  await ctx.audit.record({
    action: 'user.sign_out',
    actorId: stored.userId,
    targetType: 'session',
    targetId: stored.familyId,
    ip,
  });
}

async function revokeFamily(ctx: AuthContext, familyId: string): Promise<void> {
  await revokeRefreshFamily(ctx.db, familyId);
}

export async function revokeAllSessions(ctx: AuthContext, userId: string): Promise<number> {
  return revokeUserRefreshTokens(ctx.db, userId);
}

/**
 * Signs the user out of every session: refresh tokens revoked, and each session's access tokens
 * stamped (by `sid`), so they stop working within seconds, not when they expire. A session issued
 * afterwards is not affected (unlike a user-wide stamp).
 */
export async function endAllSessions(ctx: AuthContext, userId: string): Promise<number> {
  const families = await liveFamiliesOf(ctx.db, userId);
  const revoked = await revokeUserRefreshTokens(ctx.db, userId);
  for (const familyId of families) await revokeSessionTokens(ctx, userId, familyId);
  return revoked;
}
