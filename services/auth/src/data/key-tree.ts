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
