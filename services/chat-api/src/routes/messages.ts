import { requireScope } from '@corral/auth-client';
import { parseInput } from '@corral/service-kit';
import { type Response, Router } from 'express';
import { z } from 'zod';
import type { ChatContext } from '../context.js';
import { findOwnConversation, toMessageView } from '../data/conversations.js';
import type { GenerationResult } from '../domain/generations.js';
import { findMessage, type StartedReply, startReply, stopConversation } from '../domain/replies.js';
import { principal } from './principal.js';
import { openEventStream } from './sse.js';

/**
 * Streams a reply as Server-Sent Events: `start` (the saved messages), `token` per piece of text,
 * then `done` (complete, stopped, interrupted) or `error`. The client going away only unsubscribes:
 * the generation runs on and is saved.
 */
function streamReply(ctx: ChatContext, res: Response, started: StartedReply): void {
  const { generation } = started;
  const stream = openEventStream(res, ctx.metrics.openStreams.labels({ api: 'ui' }));
  stream.send('start', {
    conversationId: started.assistantMessage.conversationId,
    userMessage: started.userMessage ? toMessageView(started.userMessage) : null,
    assistantMessage: toMessageView(started.assistantMessage),
  });
  const onToken = (text: string) => stream.send('token', { text });
  const onEnd = (result: GenerationResult) => {
    const summary = {
      messageId: result.messageId,
      status: result.status,
      promptTokens: result.promptTokens,
      completionTokens: result.completionTokens,
      durationMs: result.durationMs,
      tokensPerSecond: result.tokensPerSecond,
      finalSave: result.finalSave,
    };
    if (result.status === 'error') {
      stream.send('error', {
        ...summary,
        code: result.error?.code ?? 'internal',
        message: result.error?.message ?? '',
      });
    } else {
      stream.send('done', summary);
    }
    stream.end();
  };
  if (generation.result) return onEnd(generation.result);
  generation.on('token', onToken);
  generation.once('end', onEnd);
  res.once('close', () => {
    generation.off('token', onToken);
    generation.off('end', onEnd);
  });
}

/**
 * Sending, regenerating, editing and stopping replies in a conversation: the conversation API's
 * generation routes, open to a session and to every API key with `inference` (the default scope).
 */
export function messageRoutes(ctx: ChatContext): Router {
  const router = Router();
  const inference = requireScope('inference');
  router.post(
    ['/:id/messages', '/:id/messages/:messageId/regenerate', '/:id/messages/:messageId/edit', '/:id/stop'],
    inference,
  );
  const max = ctx.config.MAX_MESSAGE_CHARS;
  const content = z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .refine((text) => text.length <= max, {
      error: (issue) =>
        `${String(issue.input).length} characters; at most ${max} are accepted (MAX_MESSAGE_CHARS)`,
    });
  const sendBody = z.object({ content, model: z.string().trim().min(1).max(200).optional() });
  const editBody = z.object({ content });
  const regenerateBody = z.object({ model: z.string().trim().min(1).max(200).optional() });

  router.post('/:id/messages', async (req, res) => {
    const caller = principal(req);
    const conversation = await findOwnConversation(ctx.db, caller.userId, req.params.id);
    const body = parseInput(sendBody, req.body ?? {});
    const started = await startReply(ctx, caller, conversation, {
      userContent: body.content,
      parentId: conversation.currentMessageId,
      model: body.model ?? conversation.model,
    });
    streamReply(ctx, res, started);
  });

  router.post('/:id/messages/:messageId/regenerate', async (req, res) => {
    const caller = principal(req);
    const conversation = await findOwnConversation(ctx.db, caller.userId, req.params.id);
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
    const caller = principal(req);
    const conversation = await findOwnConversation(ctx.db, caller.userId, req.params.id);
    const body = parseInput(editBody, req.body ?? {});
    const original = await findMessage(ctx, conversation.id, req.params.messageId, 'user');
    const started = await startReply(ctx, caller, conversation, {
      userContent: body.content,
      parentId: original.parentId,
      model: conversation.model,
    });
    streamReply(ctx, res, started);
  });

  router.post('/:id/stop', async (req, res) => {
    const conversation = await findOwnConversation(ctx.db, principal(req).userId, req.params.id);
    // Answers once this replica's replies are saved as stopped.
    res.json({ stopping: await stopConversation(ctx, conversation.id) });
  });

  return router;
}
