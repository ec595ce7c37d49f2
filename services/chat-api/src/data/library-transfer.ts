import type { ExportedAssistant, ExportedPrompt } from '@corral/contracts';
import { personalAssistants } from './assistants.js';
import type { Database } from './db.js';
import { personalPrompts } from './prompts.js';

/** The user's personal prompts and assistants as the export file writes them. */
export async function exportLibrary(
  db: Database,
  userId: string,
): Promise<{ prompts: ExportedPrompt[]; assistants: ExportedAssistant[] }> {
  const [prompts, assistants] = await Promise.all([
    personalPrompts(db, userId),
    personalAssistants(db, userId),
  ]);
  return {
    prompts: prompts.map((p) => ({
      id: p.id,
      title: p.title,
      text: p.text,
      createdAt: p.createdAt.toISOString(),
      updatedAt: p.updatedAt.toISOString(),
    })),
    assistants: assistants.map((a) => ({
      id: a.id,
      name: a.name,
      baseModel: a.baseModel,
      systemPrompt: a.systemPrompt,
      temperature: a.temperature,
      topP: a.topP,
      maxTokens: a.maxTokens,
      seed: a.seed,
      createdAt: a.createdAt.toISOString(),
      updatedAt: a.updatedAt.toISOString(),
    })),
  };
}

/**
 * Imports personal prompts and assistants: one already in this account (same id) is left as it is,
 * an id held by anyone else gets a new id. Counts and lengths were checked by the caller.
 */
export async function importLibrary(
  db: Database,
  userId: string,
  prompts: ExportedPrompt[],
  assistants: ExportedAssistant[],
): Promise<{ prompts: number; assistants: number }> {
  return db.prisma.$transaction(async (tx) => {
    const takenPrompts = await tx.prompt.findMany({
      where: { id: { in: prompts.map((p) => p.id) } },
      select: { id: true, userId: true, shared: true },
    });
    const ownPrompts = new Set(takenPrompts.filter((p) => p.userId === userId && !p.shared).map((p) => p.id));
    const otherPrompts = new Set(takenPrompts.map((p) => p.id));
    const newPrompts = prompts
      .filter((p) => !ownPrompts.has(p.id))
      .map((p) => ({
        ...(otherPrompts.has(p.id) ? {} : { id: p.id }),
        userId,
        shared: false,
        title: p.title,
        text: p.text,
        createdAt: new Date(p.createdAt),
        updatedAt: new Date(p.updatedAt),
      }));
    await tx.prompt.createMany({ data: newPrompts });

    const takenAssistants = await tx.assistant.findMany({
      where: { id: { in: assistants.map((a) => a.id) } },
      select: { id: true, userId: true, shared: true },
    });
    const ownAssistants = new Set(
      takenAssistants.filter((a) => a.userId === userId && !a.shared).map((a) => a.id),
    );
    const otherAssistants = new Set(takenAssistants.map((a) => a.id));
    const newAssistants = assistants
      .filter((a) => !ownAssistants.has(a.id))
      .map((a) => ({
        ...a,
        ...(otherAssistants.has(a.id) ? { id: undefined } : {}),
        userId,
        shared: false,
        createdAt: new Date(a.createdAt),
        updatedAt: new Date(a.updatedAt),
      }));
    await tx.assistant.createMany({ data: newAssistants });
    return { prompts: newPrompts.length, assistants: newAssistants.length };
  });
}
