import { useEffect, useState } from 'react';
import { api, type Assistant } from '../api/index.js';

/** The picker's value for an assistant (models are picked by name, which never starts so). */
export const ASSISTANT_PREFIX = 'assistant:';
export const assistantValue = (assistant: Assistant) => `${ASSISTANT_PREFIX}${assistant.id}`;
export const isAssistantValue = (value: string) => value.startsWith(ASSISTANT_PREFIX);

/**
 * What starts a new chat from the picker's choice: an assistant brings its own model, system
 * prompt and parameters (chat-api applies them), a model the typed system prompt.
 */
export function startRequest(
  choice: { model: string; systemPrompt: string },
  content: string,
): { content: string; model?: string; systemPrompt?: string; assistantId?: string } {
  if (isAssistantValue(choice.model))
    return { content, assistantId: choice.model.slice(ASSISTANT_PREFIX.length) };
  return {
    content,
    ...(choice.model ? { model: choice.model } : {}),
    ...(choice.systemPrompt.trim() ? { systemPrompt: choice.systemPrompt } : {}),
  };
}

/** The assistants the user may pick (theirs and the shared ones open to them), read once per mount. */
export function useAssistants(): Assistant[] {
  const [assistants, setAssistants] = useState<Assistant[]>([]);
  useEffect(() => {
    let live = true;
    api.library.assistants().then(
      (loaded) => live && setAssistants(loaded),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);
  return assistants;
}
