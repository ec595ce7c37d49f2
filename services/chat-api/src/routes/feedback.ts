import { adminFeedbackQuery, feedbackInput } from '@corral/contracts';
import { requireScope } from '@corral/auth-client';
import { AppError, parseInput } from '@corral/service-kit';
import { Router } from 'express';
import type { ChatContext } from '../context.js';
import { findOwnConversation } from '../data/conversations.js';
import {
  deleteFeedback,
  feedbackOfConversation,
  feedbackSummary,
  saveFeedback,
  toFeedbackView,
} from '../data/feedback.js';
import { principal } from './principal.js';

/**
 * Thumbs up/down on replies, under `/api/conversations`: only the conversation's owner rates its
 * replies and reads the ratings (someone else's conversation is a 404, as everywhere).
 */
export function feedbackRoutes(ctx: ChatContext): Router {
  const router = Router();
  const account = requireScope('account');
  const maxComment = ctx.config.FEEDBACK_COMMENT_MAX_CHARS;
  // Scopes first, one line per route (the handlers below keep their typed params).
  router.get('/:id/feedback', account);
  router.put('/:id/messages/:messageId/feedback', account);
  router.delete('/:id/messages/:messageId/feedback', account);

  router.get('/:id/feedback', async (req, res) => {
    const conversation = await findOwnConversation(ctx.db, principal(req).userId, req.params.id);
    const items = await feedbackOfConversation(ctx.db, conversation.id);
    res.json({ items: items.map(toFeedbackView) });
  });

  router.put('/:id/messages/:messageId/feedback', async (req, res) => {
    const { userId } = principal(req);
    const conversation = await findOwnConversation(ctx.db, userId, req.params.id);
    const body = parseInput(feedbackInput, req.body ?? {});
    const comment = body.comment?.trim() || null;
    if (comment !== null && comment.length > maxComment) {
      const message = `at most ${maxComment} characters (FEEDBACK_COMMENT_MAX_CHARS); this one has ${comment.length}`;
      throw new AppError('validation_failed', `body.comment: ${message}`, {
        extensions: { errors: [{ path: 'body.comment', message }], limit: maxComment },
      });
    }
    const saved = await saveFeedback(ctx.db, {
      userId,
      conversationId: conversation.id,
      messageId: req.params.messageId,
      rating: body.rating,
      comment,
    });
    res.json({ feedback: toFeedbackView(saved) });
  });

  router.delete('/:id/messages/:messageId/feedback', async (req, res) => {
    const conversation = await findOwnConversation(ctx.db, principal(req).userId, req.params.id);
    await deleteFeedback(ctx.db, conversation.id, req.params.messageId);
    res.status(204).end();
  });

  return router;
}

/** `GET /api/admin/feedback` (admin only): counts per model and the newest comments. */
export function adminFeedbackRoutes(ctx: ChatContext): Router {
  const router = Router();
  router.get('/feedback', async (req, res) => {
    const query = parseInput(adminFeedbackQuery, req.query, 'query');
    res.json(await feedbackSummary(ctx.db, query.days, query.limit));
  });
  return router;
}
