import {
  adminFeedbackSummary,
  conversationResponse,
  type FeedbackRating,
  feedbackList,
  feedbackResponse,
  folderList,
  folderResponse,
} from '@corral/contracts';
import type { ApiClient } from './http.js';

const id = (value: string) => encodeURIComponent(value);

/** Feedback on replies and folders of conversations (chat-api's `/feedback` and `/api/folders` routes). */
export function organizeApi(http: ApiClient) {
  return {
    feedback: async (conversationId: string) =>
      (await http.json(feedbackList, `/api/conversations/${id(conversationId)}/feedback`)).items,
    rate: async (
      conversationId: string,
      messageId: string,
      input: { rating: FeedbackRating; comment?: string | null },
    ) =>
      (
        await http.json(
          feedbackResponse,
          `/api/conversations/${id(conversationId)}/messages/${id(messageId)}/feedback`,
          { method: 'PUT', body: input },
        )
      ).feedback,
    unrate: async (conversationId: string, messageId: string): Promise<void> => {
      await http.request(`/api/conversations/${id(conversationId)}/messages/${id(messageId)}/feedback`, {
        method: 'DELETE',
      });
    },
    feedbackSummary: (days = 30) =>
      http.json(adminFeedbackSummary, '/api/admin/feedback', { query: { days } }),

    folders: () => http.json(folderList, '/api/folders'),
    createFolder: async (name: string) =>
      (await http.json(folderResponse, '/api/folders', { body: { name } })).folder,
    renameFolder: async (folderId: string, name: string) =>
      (await http.json(folderResponse, `/api/folders/${id(folderId)}`, { method: 'PATCH', body: { name } }))
        .folder,
    deleteFolder: async (folderId: string): Promise<void> => {
      await http.request(`/api/folders/${id(folderId)}`, { method: 'DELETE' });
    },
    moveToFolder: async (conversationId: string, folderId: string | null) =>
      (
        await http.json(conversationResponse, `/api/conversations/${id(conversationId)}/folder`, {
          method: 'PUT',
          body: { folderId },
        })
      ).conversation,
  };
}
