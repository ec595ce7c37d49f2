import type { Database } from './db.js';

/** `rootId` and every key created from it, however deep (breadth-first; key trees are shallow). */
export async function keyWithDescendants(db: Database, rootId: string): Promise<string[]> {
  const all = [rootId];
  let frontier = [rootId];
  while (frontier.length > 0) {
    const children = await db.prisma.apiKey.findMany({
      where: { parentKeyId: { in: frontier }, id: { notIn: all } },
      select: { id: true },
    });
    frontier = children.map((child) => child.id);
    all.push(...frontier);
  }
  return all;
}

/** Revokes the given keys that are not revoked yet; returns how many were. */
export async function revokeKeys(db: Database, ids: string[], at = new Date()): Promise<number> {
  const result = await db.prisma.apiKey.updateMany({
    where: { id: { in: ids }, revokedAt: null },
    data: { revokedAt: at },
  });
  return result.count;
}

/** Most links followed up a key's parents (key trees are shallow; a cycle cannot loop). */
const MAX_KEY_DEPTH = 32;

/** The keys `parentKeyId` descends from, that one first (empty without a parent). */
export async function keyAncestors(db: Database, parentKeyId: string | null): Promise<string[]> {
  const chain: string[] = [];
  let next = parentKeyId;
  while (next !== null && chain.length < MAX_KEY_DEPTH && !chain.includes(next)) {
    chain.push(next);
    const row = await db.prisma.apiKey.findUnique({ where: { id: next }, select: { parentKeyId: true } });
    next = row?.parentKeyId ?? null;
  }
  return chain;
}
