import type { RefreshToken, User } from '../generated/prisma/client.js';
import type { Database } from './db.js';

export interface NewRefreshToken {
  id?: string;
  userId: string;
  familyId: string;
  tokenHash: string;
  expiresAt: Date;
}

export async function insertRefreshToken(db: Database, token: NewRefreshToken): Promise<void> {
  await db.prisma.refreshToken.create({ data: token });
}

export function findRefreshToken(db: Database, tokenHash: string): Promise<RefreshToken | null> {
  return db.prisma.refreshToken.findUnique({ where: { tokenHash } });
}

export function findRefreshTokenWithUser(
  db: Database,
  tokenHash: string,
): Promise<(RefreshToken & { user: User }) | null> {
  return db.prisma.refreshToken.findUnique({ where: { tokenHash }, include: { user: true } });
}

/**
 * Marks the token used (revoked, replaced by `nextId`) unless it already is: of two concurrent
 * claims exactly one gets true.
 */
export async function claimRefreshToken(db: Database, id: string, nextId: string): Promise<boolean> {
  const claimed = await db.prisma.refreshToken.updateMany({
    where: { id, revokedAt: null, replacedById: null },
    data: { revokedAt: new Date(), replacedById: nextId },
  });
  return claimed.count === 1;
}

export async function revokeRefreshFamily(db: Database, familyId: string): Promise<void> {
  await db.prisma.refreshToken.updateMany({
    where: { familyId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
}

/** Revokes every live refresh token of the user; how many. */
export async function revokeUserRefreshTokens(db: Database, userId: string): Promise<number> {
  const result = await db.prisma.refreshToken.updateMany({
    where: { userId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return result.count;
}
