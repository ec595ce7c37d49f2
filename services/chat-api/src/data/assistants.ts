import type { Assistant as AssistantView } from '@corral/contracts';
import { AppError } from '@corral/service-kit';
import { UUID } from './conversations.js';
import type { Database } from './db.js';
import type { Assistant } from '../generated/prisma/client.js';

export type { Assistant };

export const assistantNotFound = () => new AppError('not_found', 'No such assistant.');

/** The caller's own assistants and every shared one (which of those the caller may use is domain's). */
export function listAssistantCandidates(db: Database, userId: string): Promise<Assistant[]> {
  return db.prisma.assistant.findMany({
    where: { OR: [{ userId, shared: false }, { shared: true }] },
    orderBy: [{ name: 'asc' }, { id: 'asc' }],
  });
}

export function countAssistants(db: Database, userId: string, shared: boolean): Promise<number> {
  return db.prisma.assistant.count({ where: shared ? { shared: true } : { userId, shared: false } });
}

export type AssistantFields = Pick<
  Assistant,
  'name' | 'baseModel' | 'systemPrompt' | 'groupIds' | 'temperature' | 'topP' | 'maxTokens' | 'seed'
>;

export function createAssistant(
  db: Database,
  data: AssistantFields & { userId: string; shared: boolean },
): Promise<Assistant> {
  return db.prisma.assistant.create({ data });
}

export async function findAssistant(db: Database, id: string): Promise<Assistant | null> {
  if (!UUID.test(id)) return null;
  return db.prisma.assistant.findUnique({ where: { id } });
}

export function updateAssistant(
  db: Database,
  id: string,
  changes: Partial<AssistantFields>,
): Promise<Assistant> {
  const data = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
  return db.prisma.assistant.update({ where: { id }, data: { ...data, updatedAt: new Date() } });
}

export async function deleteAssistant(db: Database, id: string): Promise<void> {
  await db.prisma.assistant.deleteMany({ where: { id } });
}

export function personalAssistants(db: Database, userId: string): Promise<Assistant[]> {
  return db.prisma.assistant.findMany({ where: { userId, shared: false }, orderBy: { createdAt: 'asc' } });
}

/** The name of the assistant a conversation was started with (as it was then), or null. */
export async function conversationAssistantName(
  db: Database,
  conversationId: string,
): Promise<string | null> {
  const { rows } = await db.pool.query<{ name: string }>({
    name: 'chat_conversation_assistant_name',
    text: 'SELECT name FROM conversation_assistants WHERE conversation_id = $1',
    values: [conversationId],
  });
  return rows[0]?.name ?? null;
}

export const toAssistantView = (assistant: Assistant, editable: boolean): AssistantView => ({
  id: assistant.id,
  name: assistant.name,
  baseModel: assistant.baseModel,
  systemPrompt: assistant.systemPrompt,
  shared: assistant.shared,
  groupIds: assistant.shared ? assistant.groupIds : [],
  editable,
  temperature: assistant.temperature,
  topP: assistant.topP,
  maxTokens: assistant.maxTokens,
  seed: assistant.seed,
  createdAt: assistant.createdAt.toISOString(),
  updatedAt: assistant.updatedAt.toISOString(),
});
