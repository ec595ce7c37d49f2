import { AppError } from '@corral/service-kit';
import type { AdminFeedbackSummary, Feedback as FeedbackView, FeedbackRating } from '@corral/contracts';
import { UUID } from './conversations.js';
import type { Database } from './db.js';
import type { MessageFeedback } from '../generated/prisma/client.js';

export const toFeedbackView = (f: MessageFeedback): FeedbackView => ({
  messageId: f.messageId,
  rating: f.rating,
  comment: f.comment,
  createdAt: f.createdAt.toISOString(),
  updatedAt: f.updatedAt.toISOString(),
});

const messageNotFound = () => new AppError('not_found', 'No such message in this conversation.');

/**
 * Stores (or replaces) the owner's rating of a reply in their conversation. Only assistant
 * messages that are finished can be rated: a user's own message or a reply still being written
 * is refused (400 / 409).
 */
export async function saveFeedback(
  db: Database,
  input: {
    userId: string;
    conversationId: string;
    messageId: string;
    rating: FeedbackRating;
    comment: string | null;
  },
): Promise<MessageFeedback> {
  if (!UUID.test(input.messageId)) throw messageNotFound();
  const message = await db.prisma.message.findFirst({
    where: { id: input.messageId, conversationId: input.conversationId },
    select: { role: true, status: true, model: true },
  });
  if (!message) throw messageNotFound();
  if (message.role !== 'assistant') {
    throw new AppError('validation_failed', 'Only replies (assistant messages) take feedback.', {
      extensions: { errors: [{ path: 'params.messageId', message: 'not an assistant message' }] },
    });
  }
  if (message.status === 'streaming') {
    throw new AppError('conflict', 'This reply is still being written; rate it once it ends.');
  }
  const now = new Date();
  const data = { rating: input.rating, comment: input.comment, updatedAt: now };
  return db.prisma.messageFeedback.upsert({
    where: { messageId: input.messageId },
    create: {
      ...data,
      messageId: input.messageId,
      userId: input.userId,
      conversationId: input.conversationId,
      model: message.model ?? '',
      createdAt: now,
    },
    update: data,
  });
}

/** Removes the rating (the user took the thumb back); false when there was none. */
export async function deleteFeedback(
  db: Database,
  conversationId: string,
  messageId: string,
): Promise<boolean> {
  if (!UUID.test(messageId)) return false;
  const { count } = await db.prisma.messageFeedback.deleteMany({ where: { messageId, conversationId } });
  return count > 0;
}

export function feedbackOfConversation(db: Database, conversationId: string): Promise<MessageFeedback[]> {
  return db.prisma.messageFeedback.findMany({ where: { conversationId }, orderBy: { createdAt: 'asc' } });
}

/** Feedback on these messages, by message id (the export). */
export async function feedbackOfMessages(
  db: Database,
  messageIds: string[],
): Promise<Map<string, MessageFeedback>> {
  if (messageIds.length === 0) return new Map();
  const rows = await db.prisma.messageFeedback.findMany({ where: { messageId: { in: messageIds } } });
  return new Map(rows.map((row) => [row.messageId, row]));
}

/** The admin usage view: ups and downs per model over the last `days`, and the newest comments. */
export async function feedbackSummary(
  db: Database,
  days: number,
  limit: number,
): Promise<AdminFeedbackSummary> {
  const since = new Date(Date.now() - days * 24 * 3600 * 1000);
  const [counts, comments] = await Promise.all([
    db.pool.query<{ model: string; up: number; down: number }>(
      `SELECT model, count(*) FILTER (WHERE rating = 'up')::int AS up,
              count(*) FILTER (WHERE rating = 'down')::int AS down
         FROM message_feedback WHERE updated_at >= $1
        GROUP BY model ORDER BY count(*) DESC, model`,
      [since],
    ),
    db.prisma.messageFeedback.findMany({
      where: { updatedAt: { gte: since }, comment: { not: null } },
      orderBy: [{ updatedAt: 'desc' }, { messageId: 'desc' }],
      take: limit,
    }),
  ]);
  return {
    days,
    byModel: counts.rows,
    recentComments: comments.map((f) => ({
      messageId: f.messageId,
      userId: f.userId,
      model: f.model,
      rating: f.rating,
      comment: f.comment ?? '',
      updatedAt: f.updatedAt.toISOString(),
    })),
  };
}
