import type { PrismaClient } from './db.js';

export interface RevocationRow {
  id: bigint;
  userId: string;
  sessionId: string | null;
  notBefore: Date;
}

export async function insertRevocation(
  prisma: PrismaClient,
  event: { userId: string; sessionId: string | null; notBefore: Date },
): Promise<RevocationRow> {
  return prisma.revocationEvent.create({ data: event });
}

/** Events after `afterId`, or (without it) created since `since`; oldest first. */
export async function revocationsAfter(
  prisma: PrismaClient,
  { afterId, since, limit }: { afterId?: bigint | undefined; since: Date; limit: number },
): Promise<RevocationRow[]> {
  return prisma.revocationEvent.findMany({
    where: afterId === undefined ? { createdAt: { gte: since } } : { id: { gt: afterId } },
    orderBy: { id: 'asc' },
    take: limit,
  });
}

export async function sessionRevoked(
  prisma: PrismaClient,
  userId: string,
  sessionId: string,
): Promise<boolean> {
  const found = await prisma.revocationEvent.findFirst({
    where: { userId, sessionId },
    select: { id: true },
  });
  return found !== null;
}

export async function setTokensValidAfter(prisma: PrismaClient, userId: string, at: Date): Promise<void> {
  await prisma.user.update({ where: { id: userId }, data: { tokensValidAfter: at } });
}

export async function pruneRevocations(prisma: PrismaClient, before: Date): Promise<number> {
  const result = await prisma.revocationEvent.deleteMany({ where: { createdAt: { lt: before } } });
  return result.count;
}
