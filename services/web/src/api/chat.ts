import { ApiError, NetworkError, problemFrom } from './errors.js';
import type { ApiClient } from './http.js';
import { readSse } from './sse.js';
import type {
  BackendPool,
  Conversation,
  MessageList,
  ModelInfo,
  Page,
  ReplyEvent,
  ReplySummary,
  UsageRow,
  UserLimits,
} from './types.js';

export interface ConversationQuery {
  q?: string;
  cursor?: string | null;
  archived?: boolean | 'all';
  limit?: number;
}

export type ConversationPatch = Partial<
  Pick<Conversation, 'title' | 'pinned' | 'archived' | 'systemPrompt' | 'model'>
>;

const id = (value: string) => encodeURIComponent(value);

/** Parses a reply stream; a stream that ends without `done`/`error` was cut (connection lost). */
export async function* parseReplyStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ReplyEvent> {
  let finished = false;
  try {
    for await (const event of readSse(body)) {
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(event.data) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (event.event === 'token') {
        yield { type: 'token', text: typeof data.text === 'string' ? data.text : '' };
      } else if (event.event === 'start') {
        yield { ...(data as unknown as Omit<ReplyEvent & { type: 'start' }, 'type'>), type: 'start' };
      } else if (event.event === 'done') {
        finished = true;
        yield { type: 'done', summary: data as unknown as ReplySummary };
      } else if (event.event === 'error') {
        finished = true;
        yield {
          type: 'error',
          summary: data as Partial<ReplySummary>,
          code: typeof data.code === 'string' ? data.code : 'internal',
          message: typeof data.message === 'string' ? data.message : 'The reply failed.',
        };
      }
    }
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new NetworkError('The connection was lost while the reply was streaming.', { cause: error });
  }
  if (!finished) throw new NetworkError('The connection was lost while the reply was streaming.');
}

/** chat-api's routes under /api. */
export function chatApi(http: ApiClient) {
  async function* reply(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<ReplyEvent> {
    const res = await http.send(path, {
      body,
      headers: { Accept: 'text/event-stream' },
      ...(signal ? { signal } : {}),
    });
    if (!res.body) throw new NetworkError('The server sent no reply stream.');
    yield* parseReplyStream(res.body);
  }

  return {
    conversations: (query: ConversationQuery) =>
      http.request<Page<Conversation>>('/api/conversations', {
        query: { limit: query.limit ?? 30, q: query.q, cursor: query.cursor, archived: query.archived },
      }),
    createConversation: async (input: { model?: string; systemPrompt?: string | null; title?: string }) =>
      (await http.request<{ conversation: Conversation }>('/api/conversations', { body: input }))
        .conversation,
    conversation: async (conversationId: string) =>
      (await http.request<{ conversation: Conversation }>(`/api/conversations/${id(conversationId)}`))
        .conversation,
    updateConversation: async (conversationId: string, patch: ConversationPatch) =>
      (
        await http.request<{ conversation: Conversation }>(`/api/conversations/${id(conversationId)}`, {
          method: 'PATCH',
          body: patch,
        })
      ).conversation,
    deleteConversation: (conversationId: string) =>
      http.request<void>(`/api/conversations/${id(conversationId)}`, { method: 'DELETE' }),
    /** Every message of every branch, plus the leaf the server considers current. */
    messages: (conversationId: string) =>
      http.request<MessageList>(`/api/conversations/${id(conversationId)}/messages`, {
        query: { branch: 'all' },
      }),

    send: (conversationId: string, content: string, signal?: AbortSignal) =>
      reply(`/api/conversations/${id(conversationId)}/messages`, { content }, signal),
    regenerate: (conversationId: string, messageId: string, signal?: AbortSignal) =>
      reply(`/api/conversations/${id(conversationId)}/messages/${id(messageId)}/regenerate`, {}, signal),
    edit: (conversationId: string, messageId: string, content: string, signal?: AbortSignal) =>
      reply(`/api/conversations/${id(conversationId)}/messages/${id(messageId)}/edit`, { content }, signal),
    stop: (conversationId: string) =>
      http.request<{ stopping: string[] }>(`/api/conversations/${id(conversationId)}/stop`, {
        method: 'POST',
      }),

    /** Chat models the caller may use (chat-api's /api/models; the OpenAI-style /v1/models as a fallback). */
    async models(): Promise<ModelInfo[]> {
      type Entry = { id?: string; name?: string; kind?: string };
      type Listing = { defaultModel?: string; items?: Entry[]; data?: Entry[]; models?: Entry[] };
      let listing: Listing;
      try {
        listing = await http.request<Listing>('/api/models');
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 404) throw error;
        listing = await http.request<Listing>('/v1/models');
      }
      const models = (listing.items ?? listing.data ?? listing.models ?? [])
        .filter((entry) => entry.kind !== 'embedding')
        .map((entry) => ({ id: entry.id ?? entry.name ?? '' }))
        .filter((entry) => entry.id !== '');
      // The deployment's default model first, so a new chat starts with it.
      const preferred = listing.defaultModel;
      const index = preferred
        ? models.findIndex((m) => m.id === preferred || m.id === `${preferred}:latest`)
        : -1;
      return index > 0 ? [models[index]!, ...models.slice(0, index), ...models.slice(index + 1)] : models;
    },

    usage: async (days = 30) => {
      const body = await http.request<{ items?: UsageRow[]; days?: UsageRow[] } | UsageRow[]>('/api/usage', {
        query: { days },
      });
      return Array.isArray(body) ? body : (body.items ?? body.days ?? []);
    },

    /** The server's export (all conversations with every branch), as a downloadable blob. */
    exportAll: async () => (await http.send('/api/conversations/export')).blob(),
    importFile: (file: File) =>
      http.request<{ imported?: number }>('/api/conversations/import', {
        body: file,
        headers: { 'Content-Type': 'application/json' },
      }),

    admin: {
      usage: async (days = 30) => {
        const body = await http.request<{ items: UsageRow[] }>('/api/admin/usage', { query: { days } });
        return body.items;
      },
      limits: (userId: string) => http.request<UserLimits>(`/api/admin/users/${id(userId)}/limits`),
      setLimits: (userId: string, limits: UserLimits) =>
        http.request<UserLimits>(`/api/admin/users/${id(userId)}/limits`, { method: 'PUT', body: limits }),
      /** The gateway's pool, through chat-api (admin-only), else the gateway path local mode proxies. */
      async backends(): Promise<BackendPool> {
        try {
          return await http.request<BackendPool>('/api/admin/backends');
        } catch (error) {
          if (!(error instanceof ApiError) || error.status !== 404) throw error;
          return http.request<BackendPool>('/admin/backends');
        }
      },
      pullModel: (model: string) => http.request<unknown>('/api/admin/models/pull', { body: { model } }),
    },
  };
}

/** For errors a stream reported in-band (after the 200). */
export function streamError(code: string, message: string): ApiError {
  return new ApiError(
    problemFrom({ code, detail: message }, code === 'quota_exceeded' || code === 'rate_limited' ? 429 : 502),
  );
}
