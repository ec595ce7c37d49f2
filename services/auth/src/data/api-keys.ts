import { type ApiKey, Prisma, type User } from '../generated/prisma/client.js';
import type { Database } from './db.js';

export type { ApiKey };

export interface NewApiKeyRow {
  userId: string;
  name: string;
  prefix: string;
  keyHash: string;
  /** null: every model. */
  models: string[] | null;
  expiresAt: Date | null;
  createdById: string | null;
  scopes: string[];
  /** The key this one was created with (revoking that one revokes this one). */
  parentKeyId: string | null;
}

export function insertApiKey(db: Database, row: NewApiKeyRow): Promise<ApiKey> {
  return db.prisma.apiKey.create({ data: { ...row, models: row.models ?? Prisma.DbNull } });
}

/** The ids of the user's keys of that name still in use. */
export async function findActiveApiKeyIdsNamed(
  db: Database,
  userId: string,
  name: string,
): Promise<string[]> {
  const keys = await db.prisma.apiKey.findMany({
    where: { userId, name, revokedAt: null },
    select: { id: true },
  });
  return keys.map((key) => key.id);
}

/** Revokes these keys (those still in use); how many. */
export async function revokeApiKeysById(db: Database, ids: readonly string[]): Promise<number> {
  const result = await db.prisma.apiKey.updateMany({
    where: { id: { in: [...ids] }, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return result.count;
}

/** Revokes the user's keys of that name still in use; how many. */
export async function revokeApiKeysNamed(db: Database, userId: string, name: string): Promise<number> {
  const result = await db.prisma.apiKey.updateMany({
    where: { userId, name, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return result.count;
}

export function findApiKeyByHash(db: Database, keyHash: string): Promise<ApiKey | null> {
  return db.prisma.apiKey.findUnique({ where: { keyHash } });
}

export function findApiKeyWithOwner(
  db: Database,
  keyHash: string,
): Promise<(ApiKey & { user: User }) | null> {
  return db.prisma.apiKey.findUnique({ where: { keyHash }, include: { user: true } });
}

/** The user's own key `id`, or null (also for someone else's). */
export function findOwnApiKey(
  db: Database,
  userId: string,
  id: string,
  within?: readonly string[],
): Promise<ApiKey | null> {
  if (within && !within.includes(id)) return Promise.resolve(null);
  return db.prisma.apiKey.findFirst({ where: { id, userId } });
}

/** Newest first; with `within`, only those of these ids. */
export function listApiKeysOf(db: Database, userId: string, within?: readonly string[]): Promise<ApiKey[]> {
  return db.prisma.apiKey.findMany({
    where: within ? { userId, id: { in: [...within] } } : { userId },
    orderBy: { createdAt: 'desc' },
  });
}

/** Sets last-used to `now` unless it is newer than `staleBefore` (the WHERE does the throttling). */
export async function touchApiKeyLastUsed(
  db: Database,
  keyId: string,
  now: Date,
  staleBefore: Date,
): Promise<void> {
  await db.prisma.apiKey.updateMany({
    where: { id: keyId, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: staleBefore } }] },
    data: { lastUsedAt: now },
  });
}
