import { randomBytes } from 'node:crypto';
import type { Share as ShareView, SharedConversation, SharedMessage } from '@corral/contracts';
import { AppError } from '@corral/service-kit';
import { allMessages, branchTo, UUID } from './conversations.js';
import type { Conversation, Database, Prisma } from './db.js';
import type { Share } from '../generated/prisma/client.js';

export const shareNotFound = () =>
  new AppError('not_found', 'No such shared conversation (it may have been revoked).');

/** The link's secret: 192 random bits, URL-safe. */
const newToken = () => randomBytes(24).toString('base64url');

export function countShares(db: Database, userId: string): Promise<number> {
  return db.prisma.share.count({ where: { userId } });
}

/** Snapshots the conversation's current branch (what its owner sees now) under a new link. */
export async function createShare(db: Database, conversation: Conversation): Promise<Share> {
  const branch = branchTo(await allMessages(db, conversation.id), conversation.currentMessageId);
  const messages: SharedMessage[] = branch
    .filter((m) => m.role !== 'system' && !(m.role === 'assistant' && m.content === ''))
    .map((m) => ({
      role: m.role,
      content: m.content,
      model: m.model,
      status: m.status,
      createdAt: m.createdAt.toISOString(),
    }));
  return db.prisma.share.create({
    data: {
      token: newToken(),
      userId: conversation.userId,
      conversationId: conversation.id,
      title: conversation.title,
      model: conversation.model,
      messages: messages as unknown as Prisma.InputJsonArray,
    },
  });
}

export function listShares(db: Database, userId: string): Promise<Share[]> {
  return db.prisma.share.findMany({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
}

/** Revokes one of the user's shares; 404 for anyone else's. */
export async function deleteShare(db: Database, userId: string, id: string): Promise<void> {
  if (!UUID.test(id)) throw shareNotFound();
  const { count } = await db.prisma.share.deleteMany({ where: { id, userId } });
  if (count === 0) throw shareNotFound();
}

export async function findShareByToken(db: Database, token: string): Promise<Share> {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(token)) throw shareNotFound();
  const share = await db.prisma.share.findUnique({ where: { token } });
  if (!share) throw shareNotFound();
  return share;
}

const messagesOf = (share: Share) => share.messages as unknown as SharedMessage[];

export const toShareView = (share: Share): ShareView => ({
  id: share.id,
  token: share.token,
  conversationId: share.conversationId,
  title: share.title,
  messageCount: messagesOf(share).length,
  createdAt: share.createdAt.toISOString(),
});

export const toSharedConversation = (share: Share, readerId: string): SharedConversation => ({
  title: share.title,
  model: share.model,
  own: share.userId === readerId,
  messages: messagesOf(share),
  createdAt: share.createdAt.toISOString(),
});
