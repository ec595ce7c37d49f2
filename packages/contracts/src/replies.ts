import { z } from 'zod';
import { recordId } from './common.js';
import { message, messageStatus } from './conversations.js';

/**
 * A reply streamed as Server-Sent Events (`POST …/messages`, `…/regenerate`, `…/edit`): one
 * `start`, a `token` per piece of text, then `done` or `error`. Each event's `data` is JSON. Token
 * and final events carry an SSE `id` (their position in the reply): a client that lost the stream
 * resumes after it with `GET …/messages/:messageId/stream` and `Last-Event-ID`.
 */
export const replyStart = z.object({
  conversationId: recordId,
  /** The message the user sent; null for a regenerated reply. */
  userMessage: message.nullable(),
  assistantMessage: message,
});
export type ReplyStart = z.infer<typeof replyStart>;

export const replyToken = z.object({ text: z.string() });
export type ReplyToken = z.infer<typeof replyToken>;

/** A piece of a thinking model's reasoning, apart from the answer (sent before or between tokens). */
export const replyThinking = z.object({ text: z.string() });
export type ReplyThinking = z.infer<typeof replyThinking>;
/**
 * The whole text of the reply so far, replacing what the client had: sent by the resume route
 * (`GET …/messages/:messageId/stream`) when it cannot replay the reply's events one by one.
 */
export const replySnapshot = z.object({ text: z.string() });
export type ReplySnapshot = z.infer<typeof replySnapshot>;

/** How a reply ended (`done`: complete, stopped or interrupted). */
export const replySummary = z.object({
  messageId: recordId,
  status: messageStatus.exclude(['streaming']),
  promptTokens: z.number().int().nullable(),
  completionTokens: z.number().int().nullable(),
  durationMs: z.number().int().nullable(),
  /** Completion tokens per second, when the model reported its timing. */
  tokensPerSecond: z.number().nullable(),
});
export type ReplySummary = z.infer<typeof replySummary>;

/** The reply failed after the stream began: the summary, plus the error's code and message. */
export const replyError = replySummary.extend({ code: z.string(), message: z.string() });
export type ReplyError = z.infer<typeof replyError>;

/** Each SSE event name with the schema of its `data`. */
export const replyEventData = {
  start: replyStart,
  token: replyToken,
  thinking: replyThinking,
  snapshot: replySnapshot,
  done: replySummary,
  error: replyError,
} as const;
export type ReplyEventName = keyof typeof replyEventData;
export const REPLY_EVENT_NAMES = Object.keys(replyEventData) as ReplyEventName[];

/** A reply event after parsing: its name as `type` with its data. */
export type ReplyEvent =
  | ({ type: 'start' } & ReplyStart)
  | { type: 'token'; text: string }
  | { type: 'thinking'; text: string }
  | { type: 'snapshot'; text: string }
  | { type: 'done'; summary: ReplySummary }
  | { type: 'error'; summary: ReplySummary; code: string; message: string };

/**
 * One SSE event of a reply stream as a typed event: undefined for an event name that is not a
 * reply event (clients skip those); throws (a ZodError) when the data does not match its schema.
 */
export function parseReplyEvent(event: string, data: unknown): ReplyEvent | undefined {
  switch (event) {
    case 'start':
      return { type: 'start', ...replyStart.parse(data) };
    case 'token':
      return { type: 'token', text: replyToken.parse(data).text };
    case 'thinking':
      return { type: 'thinking', text: replyThinking.parse(data).text };
    case 'snapshot':
      return { type: 'snapshot', text: replySnapshot.parse(data).text };
    case 'done':
      return { type: 'done', summary: replySummary.parse(data) };
    case 'error': {
      const { code, message: text, ...summary } = replyError.parse(data);
      return { type: 'error', summary, code, message: text };
    }
    default:
      return undefined;
  }
}
