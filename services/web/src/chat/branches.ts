import type { Message } from '../api/index.js';

/** The messages from the root to `leafId`, in order. */
export function pathTo(messages: readonly Message[], leafId: string | null): Message[] {
  const byId = new Map(messages.map((m) => [m.id, m]));
  const path: Message[] = [];
  const seen = new Set<string>();
  let current = leafId ? byId.get(leafId) : undefined;
  while (current && !seen.has(current.id)) {
    seen.add(current.id);
    path.push(current);
    current = current.parentId ? byId.get(current.parentId) : undefined;
  }
  return path.reverse();
}

/** Alternatives to `message` (same parent, same role), oldest first: the branches at that point. */
export function siblingsOf(messages: readonly Message[], message: Message): Message[] {
  return messages
    .filter((m) => m.parentId === message.parentId && m.role === message.role)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

/** Follows the newest child from `fromId` down to a leaf: where switching to a branch lands. */
export function newestLeaf(messages: readonly Message[], fromId: string): string {
  let leaf = fromId;
  for (;;) {
    const children = messages.filter((m) => m.parentId === leaf);
    if (children.length === 0) return leaf;
    leaf = children.reduce((a, b) => (b.createdAt > a.createdAt ? b : a)).id;
  }
}

/** A leaf when the server names none: the newest message. */
export function fallbackLeaf(messages: readonly Message[]): string | null {
  if (messages.length === 0) return null;
  return messages.reduce((a, b) => (b.createdAt >= a.createdAt ? b : a)).id;
}
