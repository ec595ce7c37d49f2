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
  ImportResult,
  PullSummary,
  ReplySummary,
  UsageRow,
  UserLimits,
  UserLimitsView,
} from './types.js';

export interface ConversationQuery {
  q?: string;
  cursor?: string | null;
  archived?: boolean | 'all';
  limit?: number;
}

export type ConversationPatch = Partial<
  Pick<Conversation, 'title' | 'pinned' | 'archived' | 'systemPrompt' | 'model'> & {
    /** The branch to show and continue (chat-api refuses it while a reply is being written). */
    currentMessageId: string;
  }
>;

const id = (value: string) => encodeURIComponent(value);

/** Most usage rows one admin page asks for (chat-api's maximum). */
const USAGE_PAGE = 1000;
/** Pages read before the admin view settles for what it has (1000 rows each). */
const USAGE_MAX_PAGES = 20;

/** Reads an NDJSON body line by line (the gateway's pull progress). */
export async function* readNdjson(body: ReadableStream<Uint8Array>): AsyncGenerator<Record<string, unknown>> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value, { stream: !done });
    const lines = done ? [buffer] : buffer.split('\n');
    buffer = done ? '' : (lines.pop() ?? '');
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        yield JSON.parse(line) as Record<string, unknown>;
      } catch {
        // a torn line from a cut connection: the summary check below reports it
      }
    }
    if (done) return;
  }
}

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
    /** One conversation in the same format (importable as it is). */
    exportConversation: async (conversationId: string) =>
      (await http.send(`/api/conversations/${id(conversationId)}/export`)).blob(),
    importFile: (file: File) =>
      http.request<ImportResult>('/api/conversations/import', {
        body: file,
        headers: { 'Content-Type': 'application/json' },
      }),

    admin: {
      /** Every user's tokens by day, user and model (chat-api pages them; all pages are read). */
      usage: async (days = 30) => {
        const rows: UsageRow[] = [];
        let cursor: string | null = null;
        for (let page = 0; page < USAGE_MAX_PAGES; page += 1) {
          const body: { items: UsageRow[]; nextCursor: string | null } = await http.request(
            '/api/admin/usage',
            { query: { days, limit: USAGE_PAGE, cursor } },
          );
          rows.push(...body.items);
          cursor = body.nextCursor;
          if (!cursor) break;
        }
        return rows;
      },
      limits: (userId: string) => http.request<UserLimitsView>(`/api/admin/users/${id(userId)}/limits`),
      /** Sends only the settable fields: the route rejects anything else (a strict schema). */
      setLimits: (userId: string, limits: Partial<UserLimits>) => {
        const patch: Partial<UserLimits> = {};
        if (limits.requestsPerMinute !== undefined) patch.requestsPerMinute = limits.requestsPerMinute;
        if (limits.dailyTokenBudget !== undefined) patch.dailyTokenBudget = limits.dailyTokenBudget;
        if (limits.maxConcurrentStreams !== undefined)
          patch.maxConcurrentStreams = limits.maxConcurrentStreams;
        if (limits.allowedModels !== undefined) patch.allowedModels = limits.allowedModels;
        return http.request<UserLimitsView>(`/api/admin/users/${id(userId)}/limits`, {
          method: 'PUT',
          body: patch,
        });
      },
      /** The gateway's pool, through chat-api (admin-only), else the gateway path local mode proxies. */
      async backends(): Promise<BackendPool> {
        try {
          return await http.request<BackendPool>('/api/admin/backends');
        } catch (error) {
          if (!(error instanceof ApiError) || error.status !== 404) throw error;
          return http.request<BackendPool>('/admin/backends');
        }
      },
      /**
       * The gateway pulls the model onto every healthy backend and streams NDJSON progress, reached
       * through chat-api's `/api/admin/models/pull` relay: the Ingress sends /api to chat-api, while
       * a bare /admin path would reach web and 404.
       */
      async pullModel(
        model: string,
        onProgress?: (line: Record<string, unknown>) => void,
      ): Promise<PullSummary> {
        const res = await http.send('/api/admin/models/pull', { body: { model } });
        if (!res.body) throw new NetworkError('The gateway sent no progress stream.');
        for await (const line of readNdjson(res.body)) {
          if (line.done === true) return line as unknown as PullSummary;
          onProgress?.(line);
        }
        throw new NetworkError('The connection was lost while the model was being pulled.');
      },
    },
  };
}

/** For errors a stream reported in-band (after the 200). */
export function streamError(code: string, message: string): ApiError {
  return new ApiError(
    problemFrom({ code, detail: message }, code === 'quota_exceeded' || code === 'rate_limited' ? 429 : 502),
  );
}
