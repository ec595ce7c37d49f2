import { randomUUID } from 'node:crypto';
import type { AuthPrincipal } from '@corral/auth-client';
import { AppError } from '@corral/service-kit';
import type { ChatContext } from '../context.js';
import { allMessages, branchTo } from '../data/conversations.js';
import type { Conversation, Message } from '../data/db.js';
import type { ChatTurn } from './gateway.js';
import type { Generation } from './generations.js';
import { admitGeneration } from './admission.js';
import { firstLineTitle } from './titles.js';

export interface ReplyPlan {
  /** A new user message (send, edit) or none (regenerate). */
  userContent: string | null;
  /** What the new user message (or, for regenerate, the new reply) hangs under. */
  parentId: string | null;
  model: string;
}

export interface StartedReply {
  userMessage: Message | null;
  assistantMessage: Message;
  generation: Generation;
}

function historyFor(conversation: Conversation, path: Message[]): ChatTurn[] {
  const turns: ChatTurn[] = [];
  if (conversation.systemPrompt) turns.push({ role: 'system', content: conversation.systemPrompt });
  for (const message of path) {
    // A reply that failed before saying anything adds nothing to the context.
    if (message.role === 'assistant' && message.content === '') continue;
    turns.push({ role: message.role, content: message.content });
  }
  return turns;
}

/**
 * Commits the user message (if any) and a `streaming` assistant message in one transaction, moves
 * the conversation's current branch to it, then starts generation. Limits are checked first.
 */
export async function startReply(
  ctx: ChatContext,
  caller: AuthPrincipal,
  conversation: Conversation,
  plan: ReplyPlan,
): Promise<StartedReply> {
  const limits = await admitGeneration(ctx, caller, plan.model);
  const assistantId = randomUUID();
  const slot = await ctx.slots.acquire(caller.userId, assistantId, limits.maxConcurrentStreams);
  try {
    const { userMessage, assistantMessage } = await ctx.prisma.$transaction(async (tx) => {
      const now = new Date();
      const userMessage =
        plan.userContent === null
          ? null
          : await tx.message.create({
              data: {
                conversationId: conversation.id,
                parentId: plan.parentId,
                role: 'user',
                content: plan.userContent,
                status: 'complete',
                createdAt: now,
                updatedAt: now,
              },
            });
      // One millisecond later, so the reply sorts after its question even within a transaction.
      const replyAt = new Date(now.getTime() + 1);
      const assistantMessage = await tx.message.create({
        data: {
          id: assistantId,
          conversationId: conversation.id,
          parentId: userMessage ? userMessage.id : plan.parentId,
          role: 'assistant',
          model: plan.model,
          status: 'streaming',
          createdAt: replyAt,
          updatedAt: replyAt,
        },
      });
      await tx.conversation.update({
        where: { id: conversation.id },
        data: {
          currentMessageId: assistantId,
          updatedAt: replyAt,
          // A placeholder at once; the title model replaces it after the first exchange.
          ...(conversation.titleSource === 'none' && plan.userContent
            ? { title: firstLineTitle(plan.userContent), titleSource: 'auto' as const }
            : {}),
        },
      });
      return { userMessage, assistantMessage };
    });
    const messages = await allMessages(ctx.prisma, conversation.id);
    const path = branchTo(messages, assistantMessage.parentId);
    const generation = ctx.generations.start({
      messageId: assistantId,
      conversationId: conversation.id,
      userId: caller.userId,
      apiKeyId: caller.kind === 'api_key' ? caller.tokenId : null,
      model: plan.model,
      messages: historyFor(conversation, path),
      slot,
    });
    scheduleTitle(ctx, caller, conversation, path, generation);
    return { userMessage, assistantMessage, generation };
  } catch (error) {
    slot.release();
    throw error;
  }
}

/**
 * After the first exchange (a conversation still without a title of its own), a title is written
 * in the background once the reply is complete: the reply itself never waits for it.
 */
function scheduleTitle(
  ctx: ChatContext,
  caller: AuthPrincipal,
  conversation: Conversation,
  path: Message[],
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
  const message = /^[0-9a-f-]{36}$/i.test(messageId)
    ? await ctx.prisma.message.findFirst({ where: { id: messageId, conversationId, role } })
    : null;
  if (!message) throw new AppError('not_found', `No such ${role} message in this conversation.`);
  return message;
}
