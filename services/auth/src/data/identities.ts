import { Prisma, type User, type UserIdentity } from '../generated/prisma/client.js';
import type { Database } from './db.js';

export type { UserIdentity };

/** The identity for issuer + sub, with its account. */
export function findIdentity(
  db: Database,
  issuer: string,
  subject: string,
): Promise<(UserIdentity & { user: User }) | null> {
  return db.prisma.userIdentity.findUnique({
    where: { issuer_subject: { issuer, subject } },
    include: { user: true },
  });
}

export interface IdentitySeen {
  email: string | null;
  groups: string[];
}

/** Links issuer + sub to an account; null when that pair is already linked (a concurrent first sign-in). */
export async function insertIdentity(
  db: Database,
  data: { userId: string; issuer: string; subject: string } & IdentitySeen,
): Promise<UserIdentity | null> {
  try {
    return await db.prisma.userIdentity.create({ data: { ...data, lastLoginAt: new Date() } });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return null;
    throw error;
  }
}

/** What the IdP said at this sign-in. */
export function recordIdentitySignIn(db: Database, id: string, seen: IdentitySeen): Promise<UserIdentity> {
  return db.prisma.userIdentity.update({ where: { id }, data: { ...seen, lastLoginAt: new Date() } });
}

export function identitiesOf(db: Database, userId: string): Promise<UserIdentity[]> {
  return db.prisma.userIdentity.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
}
