import type { Database } from './db.js';

export interface RevocationRow {
  id: bigint;
  userId: string;
  sessionId: string | null;
  notBefore: Date;
}

export async function insertRevocation(
  db: Database,
  event: { userId: string; sessionId: string | null; notBefore: Date },
): Promise<RevocationRow> {
  return db.prisma.revocationEvent.create({ data: event });
}

/** Events after `afterId`, or (without it) created since `since`; oldest first. */
export async function revocationsAfter(
  db: Database,
  { afterId, since, limit }: { afterId?: bigint | undefined; since: Date; limit: number },
): Promise<RevocationRow[]> {
  return db.prisma.revocationEvent.findMany({
    where: afterId === undefined ? { createdAt: { gte: since } } : { id: { gt: afterId } },
    orderBy: { id: 'asc' },
    take: limit,
  });
}

export async function sessionRevoked(db: Database, userId: string, sessionId: string): Promise<boolean> {
  const found = await db.prisma.revocationEvent.findFirst({
    where: { userId, sessionId },
    select: { id: true },
  });
  return found !== null;
}

export async function setTokensValidAfter(db: Database, userId: string, at: Date): Promise<void> {
  await db.prisma.user.update({ where: { id: userId }, data: { tokensValidAfter: at } });
}

export async function pruneRevocations(db: Database, before: Date): Promise<number> {
  const result = await db.prisma.revocationEvent.deleteMany({ where: { createdAt: { lt: before } } });
  return result.count;
}

/** The user's current stamp: access tokens issued before it are refused. */
export async function findTokensValidAfter(db: Database, userId: string): Promise<Date | null> {
  const user = await db.prisma.user.findUnique({ where: { id: userId }, select: { tokensValidAfter: true } });
  return user?.tokensValidAfter ?? null;
}
