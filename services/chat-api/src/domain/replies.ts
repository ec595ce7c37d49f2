import { randomUUID } from 'node:crypto';
import { AppError } from '@corral/service-kit';
import type { ChatContext } from '../context.js';
import { conversationNotFound, findConversationMessage } from '../data/conversations.js';
import type { Conversation, Message } from '../data/db.js';
import type { BranchMessage } from '../data/rows.js';
import { type AttachmentView, imagesOf } from '../data/attachments.js';
import { saveTurn, streamingReplyIds } from '../data/replies.js';
import type { ChatTurn } from './gateway.js';
import type { Generation } from './generations.js';
import { admitGeneration, type Caller } from './admission.js';
import { firstLineTitle } from './titles.js';

export interface ReplyPlan {
  /** A new user message (send, edit) or none (regenerate). */
  userContent: string | null;
  /** Images the new user message carries (checked unsent uploads of this conversation). */
  attachments?: AttachmentView[];
  /** What the new user message (or, for regenerate, the new reply) hangs under. */
  parentId: string | null;
  model: string;
  /** Ollama options (a new chat's assistant's); else those the conversation was started with. */
  options?: Record<string, unknown>;
}

export interface StartedReply {
  userMessage: Message | null;
  userAttachments: AttachmentView[];
  assistantMessage: Message;
  generation: Generation;
}

/** The turns sent to the model: each message's content only (a reply's reasoning is not sent back). */
function historyFor(
  conversation: Conversation,
  path: BranchMessage[],
  images: Map<string, string[]>,
): ChatTurn[] {
  const turns: ChatTurn[] = [];
  if (conversation.systemPrompt) turns.push({ role: 'system', content: conversation.systemPrompt });
  for (const message of path) {
    // A reply that failed before saying anything adds nothing to the context.
    if (message.role === 'assistant' && message.content === '') continue;
    const attached = images.get(message.id);
    turns.push({ role: message.role, content: message.content, ...(attached ? { images: attached } : {}) });
  }
  return turns;
}

/**
 * Saves the user message (if any) and a `streaming` assistant message and moves the conversation's
 * current branch to it — one statement, so one round trip — then starts generation. Limits are
 * checked first; a new chat (`target` a function) is created only once they passed, so a refused
 * first message leaves nothing behind.
 */
export async function startReply(
  ctx: ChatContext,
  caller: Caller,
  target: Conversation | (() => Promise<Conversation>),
  plan: ReplyPlan,
): Promise<StartedReply> {
  const assistantId = randomUUID();
  if (plan.userContent !== null) await ctx.messageLimits.assertFits(plan.model, plan.userContent.length);
  const admission = await admitGeneration(ctx, caller, plan.model, { slotId: assistantId });
  const { slot } = admission;
  try {
    const conversation = typeof target === 'function' ? await target() : target;
    const turn = await saveTurn(ctx.db, {
      conversationId: conversation.id,
      question:
        plan.userContent === null
          ? null
          : {
              id: randomUUID(),
              content: plan.userContent,
              attachmentIds: (plan.attachments ?? []).map((a) => a.id),
            },
      replyId: assistantId,
      model: plan.model,
      parentId: plan.parentId,
      // A placeholder at once; the title model replaces it after the first exchange.
      placeholderTitle: plan.userContent ? firstLineTitle(plan.userContent) : null,
      at: new Date(),
    });
    // Deleted since it was read: nothing was written.
    if (!turn) throw conversationNotFound();
    // Images of the branch's user messages: the statement said which have any (a turn without
    // images reads none); the new message's were claimed by that same statement.
    const withImages = [...turn.withImages];
    if (turn.question && (plan.attachments ?? []).length > 0) withImages.push(turn.question.id);
    const images = await imagesOf(ctx.db, withImages);
    const generation = ctx.generations.start({
      messageId: assistantId,
      conversationId: conversation.id,
      userId: caller.userId,
      apiKeyId: caller.kind === 'api_key' ? caller.tokenId : null,
      model: plan.model,
      messages: historyFor(conversation, turn.branch, images),
      maxTokens: admission.maxTokens,
      options: plan.options ?? turn.options,
      slot,
    });
    ctx.replyEvents.record(generation);
    // The final save records the usage; the reservation gives way to it then.
    void generation.finished.then(admission.settle);
    scheduleTitle(ctx, caller, conversation, turn.branch, generation);
    return {
      userMessage: turn.question,
      userAttachments: turn.question ? (plan.attachments ?? []) : [],
      assistantMessage: turn.reply,
      generation,
    };
  } catch (error) {
    slot.release();
    admission.settle();
    throw error;
  }
}

/**
 * After the first exchange (a conversation still without a title of its own), a title is written
 * in the background once the reply is complete: the reply itself never waits for it.
 */
function scheduleTitle(
  ctx: ChatContext,
  caller: Caller,
  conversation: Conversation,
  path: BranchMessage[],
  generation: Generation,
): void {
  if (!ctx.titles.enabled || conversation.titleSource === 'generated' || conversation.titleSource === 'user')
    return;
  const question = [...path].reverse().find((m) => m.role === 'user');
  if (!question) return;
  void generation.finished.then((result) => {
    if (result.status !== 'complete' || result.content.trim() === '') return;
    ctx.titles.schedule({
      conversationId: conversation.id,
      userId: caller.userId,
      model: conversation.model,
      question: question.content,
      answer: result.content,
    });
  });
}

/** The message `messageId` of this conversation with the expected role, or 404. */
export async function findMessage(
  ctx: ChatContext,
  conversationId: string,
  messageId: string,
  role: 'user' | 'assistant',
): Promise<Message> {
  const message = await findConversationMessage(ctx.db, conversationId, messageId, role);
  if (!message) throw new AppError('not_found', `No such ${role} message in this conversation.`);
  return message;
}

/**
 * Stops the conversation's replies in progress, wherever they run: this replica aborts its own,
 * the stop bus reaches the others. Resolves once this replica's are saved as stopped (so a delete
 * that follows never races their final save); returns the ids of every reply that was streaming.
 */
export async function stopConversation(ctx: ChatContext, conversationId: string): Promise<string[]> {
  const ids = await streamingReplyIds(ctx.db, conversationId);
  const local = ids.flatMap((id) => {
    const generation = ctx.generations.get(id);
    return generation && ctx.generations.stop(id) ? [generation] : [];
  });
  // The rest run on other replicas: the one holding each message aborts it.
  const localIds = new Set(local.map((g) => g.request.messageId));
  const remote = ids.filter((id) => !localIds.has(id));
  ctx.metrics.stopRequests.inc({ reached: 'local' }, local.length);
  ctx.metrics.stopRequests.inc({ reached: 'remote' }, remote.length);
  await ctx.stopBus.publish(remote);
  await Promise.all(local.map((generation) => generation.finished));
  return ids;
}
