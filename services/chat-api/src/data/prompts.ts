import type { Prompt as PromptView } from '@corral/contracts';
import { AppError } from '@corral/service-kit';
import { UUID } from './conversations.js';
import type { Database } from './db.js';
import type { Prompt } from '../generated/prisma/client.js';

export const promptNotFound = () => new AppError('not_found', 'No such prompt.');

/** The caller's own prompts and the shared ones, by title. */
export function listPrompts(db: Database, userId: string): Promise<Prompt[]> {
  return db.prisma.prompt.findMany({
    where: { OR: [{ userId, shared: false }, { shared: true }] },
    orderBy: [{ title: 'asc' }, { id: 'asc' }],
  });
}

/** Prompts counted against MAX_PROMPTS_PER_USER: the user's own, or (shared) every shared one. */
export function countPrompts(db: Database, userId: string, shared: boolean): Promise<number> {
  return db.prisma.prompt.count({ where: shared ? { shared: true } : { userId, shared: false } });
}

export function createPrompt(
  db: Database,
  data: { userId: string; shared: boolean; title: string; text: string },
): Promise<Prompt> {
  return db.prisma.prompt.create({ data });
}

/** A prompt the caller may see (own or shared), or 404. */
export async function findVisiblePrompt(db: Database, userId: string, id: string): Promise<Prompt> {
  if (!UUID.test(id)) throw promptNotFound();
  const prompt = await db.prisma.prompt.findUnique({ where: { id } });
  if (!prompt || (!prompt.shared && prompt.userId !== userId)) throw promptNotFound();
  return prompt;
}

export function updatePrompt(
  db: Database,
  id: string,
  changes: { title?: string | undefined; text?: string | undefined },
): Promise<Prompt> {
  const data = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
  return db.prisma.prompt.update({ where: { id }, data: { ...data, updatedAt: new Date() } });
}

export async function deletePrompt(db: Database, id: string): Promise<void> {
  await db.prisma.prompt.deleteMany({ where: { id } });
}

/** The caller's personal prompts (export). */
export function personalPrompts(db: Database, userId: string): Promise<Prompt[]> {
  return db.prisma.prompt.findMany({ where: { userId, shared: false }, orderBy: { createdAt: 'asc' } });
}

export const toPromptView = (prompt: Prompt, editable: boolean): PromptView => ({
  id: prompt.id,
  title: prompt.title,
  text: prompt.text,
  shared: prompt.shared,
  editable,
  createdAt: prompt.createdAt.toISOString(),
  updatedAt: prompt.updatedAt.toISOString(),
});
