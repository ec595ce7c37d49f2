import { requireScope } from '@corral/auth-client';
import { parseInput } from '@corral/service-kit';
import { Router } from 'express';
import { z } from 'zod';
import type { ChatContext } from '../context.js';
import { attachmentsOf } from '../data/attachments.js';
import { conversationAssistantName } from '../data/assistants.js';
import { listConversations } from '../data/conversation-list.js';
import { replyingConversationIds } from '../data/replies.js';
import {
  allMessages,
  branchTo,
  createConversation,
  deleteConversation,
  findOwnConversation,
  switchBranch,
  toConversationView,
  toMessageView,
  updateConversation,
} from '../data/conversations.js';
import { assertModelAllowed } from '../domain/models.js';
import { stopConversation } from '../domain/replies.js';
import { principal } from './principal.js';

const queryBoolean = z.enum(['true', 'false']).transform((value) => value === 'true');

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
  q: z.string().trim().min(1).max(200).optional(),
  pinned: queryBoolean.optional(),
  /** true: only conversations in a folder (the sidebar's folders); false: only those in none. */
  filed: queryBoolean.optional(),
  archived: z
    .enum(['true', 'false', 'all'])
    .default('false')
    .transform((value) => (value === 'all' ? 'all' : value === 'true')),
});

const tags = z.array(z.string().trim().min(1).max(50)).max(20);
const title = z.string().trim().max(200);
const systemPrompt = z.string().max(20_000).nullable();
const modelName = z.string().trim().min(1).max(200);

const createBody = z.object({
  title: title.optional(),
  model: modelName.optional(),
  systemPrompt: systemPrompt.optional(),
  tags: tags.optional(),
});

const patchBody = z
  .object({
    title,
    model: modelName,
    systemPrompt,
    tags,
    pinned: z.boolean(),
    archived: z.boolean(),
    /** The branch to show and to continue: a message of this conversation (the web sends a leaf). */
    currentMessageId: z.string().uuid(),
  })
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change');

const messagesQuery = z.object({ branch: z.enum(['current', 'all']).default('current') });

/**
 * A user's conversations: list/search, create, read, change, delete, and their messages. Creating
 * one (to send into) is part of generation, open to every API key (`inference`); reading the
 * history and changing or deleting conversations is the owner's account: a session, or a key an
 * admin granted the `account` scope.
 */
export function conversationRoutes(ctx: ChatContext): Router {
  const router = Router();
  const account = requireScope('account');
  const inference = requireScope('inference');
  // Scopes first, one line per route (the handlers below keep their typed params).
  router.post('/', inference);
  router.get(['/', '/:id', '/:id/messages'], account);
  router.patch('/:id', account);
  router.delete('/:id', account);

  router.get('/', async (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    const page = await listConversations(ctx.db, principal(req).userId, query);
    const replying = await replyingConversationIds(
      ctx.db,
      page.items.map((c) => c.id),
    );
    res.json({ items: page.items.map(toConversationView), nextCursor: page.nextCursor, replying });
  });

  router.post('/', async (req, res) => {
    const body = parseInput(createBody, req.body ?? {});
    const caller = principal(req);
    const model = body.model ?? ctx.config.DEFAULT_MODEL;
    assertModelAllowed(ctx, caller, model);
    const conversation = await createConversation(ctx.db, {
      userId: caller.userId,
      title: body.title ?? '',
      titleSource: body.title ? 'user' : 'none',
      model,
      systemPrompt: body.systemPrompt ?? null,
      tags: body.tags ?? [],
    });
    res
      .status(201)
      .location(`/api/conversations/${conversation.id}`)
      .json({ conversation: toConversationView(conversation) });
  });

  router.get('/:id', async (req, res) => {
    const conversation = await findOwnConversation(ctx.db, principal(req).userId, req.params.id);
    const assistantName = await conversationAssistantName(ctx.db, conversation.id);
    res.json({ conversation: { ...toConversationView(conversation), assistantName } });
  });

  router.patch('/:id', async (req, res) => {
    const caller = principal(req);
    const conversation = await findOwnConversation(ctx.db, caller.userId, req.params.id);
    const body = parseInput(patchBody, req.body ?? {});
    if (body.model !== undefined) assertModelAllowed(ctx, caller, body.model);
    const { currentMessageId, ...fields } = body;
    let updated = conversation;
    if (currentMessageId !== undefined)
      updated = await switchBranch(ctx.db, conversation.id, currentMessageId);
    if (Object.keys(fields).length > 0) {
      updated = await updateConversation(ctx.db, conversation.id, {
        ...fields,
        // A title the user typed is never replaced by a generated one.
        ...(fields.title !== undefined ? { titleSource: fields.title === '' ? 'none' : 'user' } : {}),
      });
    }
    res.json({ conversation: toConversationView(updated) });
  });

  router.delete('/:id', async (req, res) => {
    const caller = principal(req);
    const conversation = await findOwnConversation(ctx.db, caller.userId, req.params.id);
    // Stopped and saved first, so no final save of a reply lands after (or blocks) the delete.
    await stopConversation(ctx, conversation.id);
    await deleteConversation(ctx.db, caller.userId, conversation.id);
    res.status(204).end();
  });

  router.get('/:id/messages', async (req, res) => {
    const conversation = await findOwnConversation(ctx.db, principal(req).userId, req.params.id);
    const { branch } = parseInput(messagesQuery, req.query, 'query');
    const messages = await allMessages(ctx.db, conversation.id);
    const items = branch === 'all' ? messages : branchTo(messages, conversation.currentMessageId);
    const attachments = await attachmentsOf(
      ctx.db,
      items.filter((m) => m.role === 'user').map((m) => m.id),
    );
    res.json({
      items: items.map((m) => toMessageView(m, attachments.get(m.id))),
      currentMessageId: conversation.currentMessageId,
    });
  });

  return router;
}
