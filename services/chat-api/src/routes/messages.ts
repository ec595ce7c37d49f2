import { requireScope } from '@corral/auth-client';
import { MAX_ATTACHMENTS_PER_MESSAGE } from '@corral/contracts';
import { parseInput } from '@corral/service-kit';
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { ChatContext } from '../context.js';
import {
  createConversation,
  findConversationMessage,
  findOwnConversation,
  toMessageView,
} from '../data/conversations.js';
import type { Message } from '../data/db.js';
import { assistantForConversation, assistantOptions } from '../domain/assistants.js';
import { attachmentsForEdit, attachmentsForMessage } from '../domain/attachments.js';
import type { GenerationResult } from '../domain/generations.js';
import { EVENTS_TRIMMED, finalReplyEvent } from '../domain/reply-events.js';
import { findMessage, type StartedReply, startReply, stopConversation } from '../domain/replies.js';
import { admitted, authenticatedUserId, principal } from './principal.js';
import { openEventStream } from './sse.js';

/**
 * Streams a reply as Server-Sent Events: `start` (the saved messages), `token` per piece of text,
 * then `done` (complete, stopped, interrupted) or `error`; tokens and the final event carry their
 * position as the SSE id. The client going away only unsubscribes: the generation runs on, is
 * saved, and its events stay resumable (GET …/messages/:messageId/stream).
 */
function streamReply(ctx: ChatContext, res: Response, started: StartedReply): void {
  const { generation } = started;
  const stream = openEventStream(res, ctx.metrics.openStreams.labels({ api: 'ui' }));
  stream.send('start', {
    conversationId: started.assistantMessage.conversationId,
    userMessage: started.userMessage ? toMessageView(started.userMessage, started.userAttachments) : null,
    assistantMessage: toMessageView(started.assistantMessage),
  });
  const onToken = (text: string) => stream.send('token', { text }, generation.emitted);
  // Reasoning is shown while it streams; it has no position of its own (a resumed reply omits it).
  const onThinking = (text: string) => stream.send('thinking', { text });
  const onEnd = (result: GenerationResult) => {
    const final = finalReplyEvent(result);
    stream.send(final.event, final.data, generation.emitted + 1);
    stream.end();
  };
  if (generation.result) return onEnd(generation.result);
  generation.on('token', onToken);
  generation.on('thinking', onThinking);
  generation.once('end', onEnd);
  res.once('close', () => {
    generation.off('token', onToken);
    generation.off('thinking', onThinking);
    generation.off('end', onEnd);
  });
}

/**
 * The caller's conversation `id`, read while the request is admitted (app.ts binds the admission
 * for these routes); a refusal of the request wins over a missing conversation.
 */
async function admittedWithConversation(ctx: ChatContext, req: Request) {
  const reading = findOwnConversation(ctx.db, authenticatedUserId(req), String(req.params.id));
  reading.catch(() => undefined);
  const caller = await admitted(req);
  return { caller, conversation: await reading };
}

/** A position in a reply: `Last-Event-ID` (what EventSource sends back) or `?after=`. */
const resumeAfter = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * Resumes a reply's stream after the event the client last saw: its kept events one by one (from
 * this replica or Redis), else, when they are gone or trimmed, the saved text as a `snapshot`,
 * again whenever it grows, until the reply ends.
 */
async function resumeReply(ctx: ChatContext, res: Response, message: Message, after: number) {
  const controller = new AbortController();
  res.once('close', () => controller.abort());
  const stream = openEventStream(res, ctx.metrics.openStreams.labels({ api: 'ui' }));
  if (message.status === 'streaming') {
    const events = await ctx.replyEvents.open(message.id, after, controller.signal);
    if (events && events !== EVENTS_TRIMMED) {
      for await (const entry of events) {
        stream.send(entry.event, JSON.parse(entry.data), entry.seq);
        if (entry.event !== 'token') return stream.end();
      }
      if (controller.signal.aborted) return stream.end();
    }
  }
  // The events are gone (expired, trimmed, or kept by a replica without Redis): the saved text.
  let current = message;
  let sent: string | null = null;
  while (!controller.signal.aborted) {
    if (current.content !== sent) {
      stream.send('snapshot', { text: current.content });
      sent = current.content;
    }
    if (current.status !== 'streaming') break;
    await new Promise((resolve) => setTimeout(resolve, RESUME_POLL_MS));
    const fresh = await findConversationMessage(ctx.db, message.conversationId, message.id, 'assistant');
    if (!fresh) break;
    current = fresh;
  }
  const summary = {
    messageId: current.id,
    status: current.status === 'streaming' ? 'interrupted' : current.status,
    promptTokens: current.promptTokens,
    completionTokens: current.completionTokens,
    durationMs: current.durationMs,
    tokensPerSecond: null,
    finalSave: 'saved',
  };
  if (current.status === 'error') {
    stream.send('error', { ...summary, code: 'bad_gateway', message: current.error ?? '' });
  } else stream.send('done', summary);
  stream.end();
}

/** How often a resumed reply whose events are gone re-reads its saved text. */
const RESUME_POLL_MS = 1000;

/**
 * Sending, regenerating, editing, following and stopping replies in a conversation: the conversation API's
 * generation routes, open to a session and to every API key with `inference` (the default scope).
 */
export function messageRoutes(ctx: ChatContext): Router {
  const router = Router();
  const inference = requireScope('inference');
  router.post(
    [
      '/start',
      '/:id/messages',
      '/:id/messages/:messageId/regenerate',
      '/:id/messages/:messageId/edit',
      '/:id/stop',
    ],
    inference,
  );
  // Following a reply being written (after a dropped connection) is part of generating it.
  router.get('/:id/messages/:messageId/stream', inference);
  const max = ctx.config.MAX_MESSAGE_CHARS;
  const boundedText = z
    .string()
    .trim()
    .refine((text) => text.length <= max, {
      error: (issue) =>
        `${String(issue.input).length} characters; at most ${max} are accepted (MAX_MESSAGE_CHARS)`,
    });
  const content = boundedText.refine((text) => text.length > 0, 'must not be empty');
  const sendBody = z
    .object({
      // Empty is fine when images carry the message.
      content: boundedText,
      model: z.string().trim().min(1).max(200).optional(),
      attachmentIds: z.array(z.uuid()).max(MAX_ATTACHMENTS_PER_MESSAGE).default([]),
    })
    .refine((body) => body.content !== '' || body.attachmentIds.length > 0, {
      path: ['content'],
      message: 'must not be empty',
    });
  const editBody = z.object({ content });
  const startBody = z
    .object({
      content,
      model: z.string().trim().min(1).max(200).optional(),
      systemPrompt: z.string().max(20_000).nullable().optional(),
      /** Start with an assistant: its base model, system prompt and parameters (no `model`/`systemPrompt`). */
      assistantId: z.string().min(1).max(200).optional(),
    })
    .strict()
    .refine((body) => !body.assistantId || (body.model === undefined && body.systemPrompt === undefined), {
      path: ['assistantId'],
      message: 'an assistant brings its own model and system prompt: send neither with it',
    });
  const regenerateBody = z.object({ model: z.string().trim().min(1).max(200).optional() });

  // A new chat and its first message in one step: nothing is created when the message is refused.
  router.post('/start', async (req, res) => {
    const caller = principal(req);
    const body = parseInput(startBody, req.body ?? {});
    const assistant = body.assistantId ? await assistantForConversation(ctx, caller, body.assistantId) : null;
    const model = assistant?.baseModel ?? body.model ?? ctx.config.DEFAULT_MODEL;
    const options = assistant ? assistantOptions(assistant) : {};
    const started = await startReply(
      ctx,
      caller,
      () =>
        createConversation(
          ctx.db,
          {
            userId: caller.userId,
            title: '',
            titleSource: 'none',
            model,
            systemPrompt: assistant ? assistant.systemPrompt || null : (body.systemPrompt ?? null),
            tags: [],
          },
          assistant ? { assistant, options } : undefined,
        ),
      { userContent: body.content, parentId: null, model, options },
    );
    streamReply(ctx, res, started);
  });

  router.post('/:id/messages', async (req, res) => {
    const { caller, conversation } = await admittedWithConversation(ctx, req);
    const body = parseInput(sendBody, req.body ?? {});
    const model = body.model ?? conversation.model;
    const attachments = await attachmentsForMessage(ctx, caller, conversation.id, model, body.attachmentIds);
    const started = await startReply(ctx, caller, conversation, {
      userContent: body.content,
      attachments,
      parentId: conversation.currentMessageId,
      model,
    });
    streamReply(ctx, res, started);
  });

  router.post('/:id/messages/:messageId/regenerate', async (req, res) => {
    const { caller, conversation } = await admittedWithConversation(ctx, req);
    const body = parseInput(regenerateBody, req.body ?? {});
    const previous = await findMessage(ctx, conversation.id, req.params.messageId, 'assistant');
    const started = await startReply(ctx, caller, conversation, {
      userContent: null,
      parentId: previous.parentId,
      model: body.model ?? previous.model ?? conversation.model,
    });
    streamReply(ctx, res, started);
  });

  router.post('/:id/messages/:messageId/edit', async (req, res) => {
    const { caller, conversation } = await admittedWithConversation(ctx, req);
    const body = parseInput(editBody, req.body ?? {});
    const original = await findMessage(ctx, conversation.id, req.params.messageId, 'user');
    const attachments = await attachmentsForEdit(
      ctx,
      caller,
      conversation.id,
      conversation.model,
      original.id,
    );
    const started = await startReply(ctx, caller, conversation, {
      userContent: body.content,
      attachments,
      parentId: original.parentId,
      model: conversation.model,
    });
    streamReply(ctx, res, started);
  });

  router.get('/:id/messages/:messageId/stream', async (req, res) => {
    const caller = principal(req);
    const conversation = await findOwnConversation(ctx.db, caller.userId, req.params.id);
    const message = await findMessage(ctx, conversation.id, req.params.messageId, 'assistant');
    const cursor = req.get('last-event-id') ?? req.query.after ?? 0;
    await resumeReply(ctx, res, message, parseInput(resumeAfter, cursor));
  });

  router.post('/:id/stop', async (req, res) => {
    const conversation = await findOwnConversation(ctx.db, principal(req).userId, req.params.id);
    // Answers once this replica's replies are saved as stopped.
    res.json({ stopping: await stopConversation(ctx, conversation.id) });
  });

  return router;
}
