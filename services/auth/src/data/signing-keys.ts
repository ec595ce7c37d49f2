import type { Prisma, SigningKey } from '../generated/prisma/client.js';
import type { Database } from './db.js';

export type { SigningKey };

/** The key that signs now (the newest not retired), or null. */
export function findActiveSigningKey(db: Database): Promise<SigningKey | null> {
  return db.prisma.signingKey.findFirst({ where: { retiredAt: null }, orderBy: { createdAt: 'desc' } });
}

/** Every key not retired, newest first. */
export function listActiveSigningKeys(db: Database): Promise<Array<Pick<SigningKey, 'kid' | 'createdAt'>>> {
  return db.prisma.signingKey.findMany({
    where: { retiredAt: null },
    orderBy: { createdAt: 'desc' },
    select: { kid: true, createdAt: true },
  });
}

/** The keys not retired or retired after `since`, newest first. */
export function listSigningKeysRetiredAfter(db: Database, since: Date): Promise<SigningKey[]> {
  return db.prisma.signingKey.findMany({
    where: { OR: [{ retiredAt: null }, { retiredAt: { gt: since } }] },
    orderBy: { createdAt: 'desc' },
  });
}

export interface NewSigningKey {
  kid: string;
  /** The public half as a JWK (a plain JSON object). */
  publicJwk: object;
  encryptedPrivateKey: string;
}

/** Retires the keys `retire` and adds `key`, in one transaction. */
export async function replaceSigningKeys(db: Database, key: NewSigningKey, retire: string[]): Promise<void> {
  await db.prisma.$transaction([
    db.prisma.signingKey.updateMany({ where: { kid: { in: retire } }, data: { retiredAt: new Date() } }),
    db.prisma.signingKey.create({
      data: {
        kid: key.kid,
        publicJwk: { ...key.publicJwk } as Prisma.InputJsonObject,
        encryptedPrivateKey: key.encryptedPrivateKey,
      },
    }),
  ]);
}
