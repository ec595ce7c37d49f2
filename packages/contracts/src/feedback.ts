import { z } from 'zod';
import { recordId, timestamp } from './common.js';

/**
 * Thumbs up/down with an optional comment on an assistant reply: what
 * `PUT /api/conversations/:id/messages/:messageId/feedback` takes, `GET /api/conversations/:id/feedback`
 * lists, the admin usage view counts and the export carries.
 */
export const feedbackRating = z.enum(['up', 'down']);
export type FeedbackRating = z.infer<typeof feedbackRating>;

/**
 * The most any deployment accepts in a comment; chat-api's FEEDBACK_COMMENT_MAX_CHARS (at most this)
 * is the limit that applies.
 */
export const FEEDBACK_COMMENT_CEILING = 10_000;

/** `PUT …/feedback`: the rating, and a comment (null or absent = none; blank counts as none). */
export const feedbackInput = z
  .object({
    rating: feedbackRating,
    comment: z.string().max(FEEDBACK_COMMENT_CEILING).nullable().optional(),
  })
  .strict();
export type FeedbackInput = z.infer<typeof feedbackInput>;

export const feedback = z.object({
  messageId: recordId,
  rating: feedbackRating,
  comment: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Feedback = z.infer<typeof feedback>;

/** `PUT …/feedback` answer. */
export const feedbackResponse = z.object({ feedback });

/** `GET /api/conversations/:id/feedback`: the owner's feedback on this conversation's replies. */
export const feedbackList = z.object({ items: z.array(feedback) });
export type FeedbackList = z.infer<typeof feedbackList>;

/** `GET /api/admin/feedback?days=&limit=`: counts per model and the newest comments. */
export const adminFeedbackQuery = z.object({
  days: z.coerce.number().int().min(1).max(366).default(30),
  limit: z.coerce.number().int().min(1).max(200).default(20),
});

export const adminFeedbackSummary = z.object({
  days: z.number().int(),
  byModel: z.array(z.object({ model: z.string(), up: z.number().int(), down: z.number().int() })),
  /** Newest first. */
  recentComments: z.array(
    z.object({
      messageId: recordId,
      userId: z.string(),
      model: z.string(),
      rating: feedbackRating,
      comment: z.string(),
      updatedAt: timestamp,
    }),
  ),
});
export type AdminFeedbackSummary = z.infer<typeof adminFeedbackSummary>;

/** An assistant message's feedback in the export file. */
export const exportedFeedback = z.object({
  rating: feedbackRating,
  comment: z.string().max(FEEDBACK_COMMENT_CEILING).nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type ExportedFeedback = z.infer<typeof exportedFeedback>;
