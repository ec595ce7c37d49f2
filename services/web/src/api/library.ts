import {
  type AssistantBody,
  assistantList,
  assistantResponse,
  type PromptBody,
  promptList,
  promptResponse,
  sharedConversationResponse,
  shareList,
  shareResponse,
} from '@corral/contracts';
import type { ApiClient } from './http.js';

const id = (value: string) => encodeURIComponent(value);

/** chat-api's prompt library, assistants and shared conversations. */
export function libraryApi(http: ApiClient) {
  return {
    prompts: async () => (await http.json(promptList, '/api/prompts')).items,
    createPrompt: async (body: PromptBody) =>
      (await http.json(promptResponse, '/api/prompts', { body })).prompt,
    updatePrompt: async (promptId: string, body: { title?: string; text?: string }) =>
      (await http.json(promptResponse, `/api/prompts/${id(promptId)}`, { method: 'PATCH', body })).prompt,
    deletePrompt: async (promptId: string): Promise<void> => {
      await http.request(`/api/prompts/${id(promptId)}`, { method: 'DELETE' });
    },

    assistants: async () => (await http.json(assistantList, '/api/assistants')).items,
    createAssistant: async (body: AssistantBody) =>
      (await http.json(assistantResponse, '/api/assistants', { body })).assistant,
    updateAssistant: async (assistantId: string, body: Partial<Omit<AssistantBody, 'shared'>>) =>
      (await http.json(assistantResponse, `/api/assistants/${id(assistantId)}`, { method: 'PATCH', body }))
        .assistant,
    deleteAssistant: async (assistantId: string): Promise<void> => {
      await http.request(`/api/assistants/${id(assistantId)}`, { method: 'DELETE' });
    },

    shares: async () => (await http.json(shareList, '/api/shares')).items,
    /** A read-only snapshot of the conversation's current branch, under a new link. */
    share: async (conversationId: string) =>
      (await http.json(shareResponse, '/api/shares', { body: { conversationId } })).share,
    revokeShare: async (shareId: string): Promise<void> => {
      await http.request(`/api/shares/${id(shareId)}`, { method: 'DELETE' });
    },
    sharedConversation: async (token: string) =>
      (await http.json(sharedConversationResponse, `/api/shares/view/${id(token)}`)).share,
  };
}
