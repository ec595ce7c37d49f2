import type { ExportFile } from '@corral/contracts';
import type { ChatContext } from '../context.js';
import { countAssistants } from '../data/assistants.js';
import { countPrompts } from '../data/prompts.js';
import { assertLength, assertRoom } from './library-limits.js';

/** An import's prompts and assistants hold to the same limits as ones saved one by one. */
export async function assertImportedLibrary(
  ctx: ChatContext,
  userId: string,
  file: ExportFile,
): Promise<void> {
  const { MAX_PROMPT_CHARS, MAX_PROMPTS_PER_USER, MAX_ASSISTANTS_PER_USER } = ctx.config;
  const prompts = file.prompts ?? [];
  const assistants = file.assistants ?? [];
  prompts.forEach((p, i) =>
    assertLength(`body.prompts.${i}.text`, p.text.length, MAX_PROMPT_CHARS, 'MAX_PROMPT_CHARS'),
  );
  assistants.forEach((a, i) =>
    assertLength(
      `body.assistants.${i}.systemPrompt`,
      a.systemPrompt.length,
      MAX_PROMPT_CHARS,
      'MAX_PROMPT_CHARS',
    ),
  );
  if (prompts.length > 0) {
    assertRoom(
      'prompts',
      await countPrompts(ctx.db, userId, false),
      prompts.length,
      MAX_PROMPTS_PER_USER,
      'MAX_PROMPTS_PER_USER',
    );
  }
  if (assistants.length > 0) {
    assertRoom(
      'assistants',
      await countAssistants(ctx.db, userId, false),
      assistants.length,
      MAX_ASSISTANTS_PER_USER,
      'MAX_ASSISTANTS_PER_USER',
    );
  }
}
