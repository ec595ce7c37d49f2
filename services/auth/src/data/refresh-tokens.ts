import type { RefreshToken, User } from '../generated/prisma/client.js';
export type { RefreshToken };
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

/** The families (sessions) of the user that still hold a live refresh token. */
export async function liveFamiliesOf(db: Database, userId: string): Promise<string[]> {
  const rows = await db.prisma.refreshToken.findMany({
    where: { userId, revokedAt: null },
    select: { familyId: true },
    distinct: ['familyId'],
  });
  return rows.map((row) => row.familyId);
}

/** Revokes every live refresh token of the user; how many. */
export async function revokeUserRefreshTokens(db: Database, userId: string): Promise<number> {
  const result = await db.prisma.refreshToken.updateMany({
    where: { userId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return result.count;
}

/**
 * Claims the token (revoked, replaced by `next.id`) and stores its successor in one transaction:
 * of two concurrent claims exactly one gets true; the other waits on the row lock.
 */
export async function claimAndReplaceRefreshToken(
  db: Database,
  id: string,
  next: NewRefreshToken & { id: string },
): Promise<boolean> {
  return db.prisma.$transaction(async (tx) => {
    const claim = await tx.refreshToken.updateMany({
      where: { id, revokedAt: null, replacedById: null },
      data: { revokedAt: new Date(), replacedById: next.id },
    });
    if (claim.count !== 1) return false;
    await tx.refreshToken.create({ data: next });
    return true;
  });
}

export function findRefreshTokenById(db: Database, id: string): Promise<RefreshToken | null> {
  return db.prisma.refreshToken.findUnique({ where: { id } });
}

export function findRefreshTokenByIdWithUser(
  db: Database,
  id: string,
): Promise<(RefreshToken & { user: User }) | null> {
  return db.prisma.refreshToken.findUnique({ where: { id }, include: { user: true } });
}
