import {
  adminUsagePage,
  attachmentResponse,
  conversationPage,
  conversationResponse,
  importResult,
  groupUsageResponse,
  messageList,
  modelListing,
  normalizeModelName,
  parseReplyEvent,
  pullBroken,
  pullSummary,
  stopResult,
  usageResponse,
  userLimitsResponse,
  backendPool,
  modelRemoval,
  poolModelListing,
  poolModelView,
  type ModelRemoval,
  type PoolModelView,
} from '@corral/contracts';
import { ApiError, NetworkError, UnexpectedAnswer, problemFrom } from './errors.js';
import type { ApiClient } from './http.js';
import { readSse } from './sse.js';
import type {
  AdminUsageRow,
  BackendPool,
  Conversation,
  ModelInfo,
  Page,
  PullSummary,
  ReplyEvent,
  UserLimits,
} from './types.js';

export interface ConversationQuery {
  q?: string;
  cursor?: string | null;
  archived?: boolean | 'all';
  /** true: only conversations in a folder. */
  filed?: boolean;
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
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        continue;
      }
      const parsed = parseReplyEvent(event.event, data);
      if (!parsed) continue;
      if (parsed.type === 'done' || parsed.type === 'error') finished = true;
      yield parsed;
    }
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    if (error instanceof UnexpectedAnswer) throw error;
    if (error instanceof Error && error.name === 'ZodError') {
      throw new UnexpectedAnswer('the reply stream', 'an event does not match its contract', {
        cause: error,
      });
    }
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
      http.json(conversationPage, '/api/conversations', {
        query: {
          limit: query.limit ?? 30,
          q: query.q,
          cursor: query.cursor,
          archived: query.archived,
          filed: query.filed,
        },
      }),
    createConversation: async (input: { model?: string; systemPrompt?: string | null; title?: string }) =>
      (await http.json(conversationResponse, '/api/conversations', { body: input })).conversation,
    conversation: async (conversationId: string) =>
      (await http.json(conversationResponse, `/api/conversations/${id(conversationId)}`)).conversation,
    updateConversation: async (conversationId: string, patch: ConversationPatch) =>
      (
        await http.json(conversationResponse, `/api/conversations/${id(conversationId)}`, {
          method: 'PATCH',
          body: patch,
        })
      ).conversation,
    deleteConversation: async (conversationId: string): Promise<void> => {
      await http.request(`/api/conversations/${id(conversationId)}`, { method: 'DELETE' });
    },
    /** Every message of every branch, plus the leaf the server considers current. */
    messages: (conversationId: string) =>
      http.json(messageList, `/api/conversations/${id(conversationId)}/messages`, {
        query: { branch: 'all' },
      }),

    /** A new chat and its first message in one step (nothing is created when the message is refused). */
    start: (
      input: { content: string; model?: string; systemPrompt?: string | null; assistantId?: string },
      signal?: AbortSignal,
    ) => reply('/api/conversations/start', input, signal),
    send: (conversationId: string, content: string, attachmentIds: string[] = [], signal?: AbortSignal) =>
      reply(
        `/api/conversations/${id(conversationId)}/messages`,
        attachmentIds.length > 0 ? { content, attachmentIds } : { content },
        signal,
      ),
    /** Stores an image for the next message of the conversation (its bytes as the body). */
    uploadAttachment: async (conversationId: string, file: File) =>
      (
        await http.json(attachmentResponse, `/api/conversations/${id(conversationId)}/attachments`, {
          body: file,
          query: { name: file.name },
          headers: { 'Content-Type': file.type || 'application/octet-stream' },
        })
      ).attachment,
    /** An attached image's bytes (the access token is a header, so an <img> cannot fetch it itself). */
    attachmentBlob: async (conversationId: string, attachmentId: string) =>
      (await http.send(`/api/conversations/${id(conversationId)}/attachments/${id(attachmentId)}`)).blob(),
    regenerate: (conversationId: string, messageId: string, signal?: AbortSignal) =>
      reply(`/api/conversations/${id(conversationId)}/messages/${id(messageId)}/regenerate`, {}, signal),
    edit: (conversationId: string, messageId: string, content: string, signal?: AbortSignal) =>
      reply(`/api/conversations/${id(conversationId)}/messages/${id(messageId)}/edit`, { content }, signal),
    /** A reply being written, after the `after`-th token (Last-Event-ID), on whichever chat-api answers. */
    async *resume(
      conversationId: string,
      messageId: string,
      after: number,
      signal?: AbortSignal,
    ): AsyncGenerator<ReplyEvent> {
      const res = await http.send(
        `/api/conversations/${id(conversationId)}/messages/${id(messageId)}/stream`,
        {
          headers: { Accept: 'text/event-stream', 'Last-Event-ID': String(after) },
          ...(signal ? { signal } : {}),
        },
      );
      if (!res.body) throw new NetworkError('The server sent no reply stream.');
      yield* parseReplyStream(res.body);
    },
    stop: (conversationId: string) =>
      http.json(stopResult, `/api/conversations/${id(conversationId)}/stop`, { method: 'POST' }),

    /** Chat models the caller may use (chat-api's GET /api/models), the deployment's default first. */
    async models(): Promise<ModelInfo[]> {
      const listing = await http.json(modelListing, '/api/models');
      const models = listing.items
        .filter((entry) => entry.kind === 'chat')
        .map((entry) => ({
          id: entry.name,
          capabilities: entry.capabilities,
          maxMessageChars: entry.maxMessageChars,
        }));
      // The deployment's default model first, so a new chat starts with it.
      const preferred = normalizeModelName(listing.defaultModel);
      const index = models.findIndex((m) => normalizeModelName(m.id) === preferred);
      return index > 0 ? [models[index]!, ...models.slice(0, index), ...models.slice(index + 1)] : models;
    },

    /** The caller's own tokens by day and model (GET /api/usage). */
    usage: async (days = 30) => (await http.json(usageResponse, '/api/usage', { query: { days } })).items,
    /** The caller's image storage: bytes used and the quota (null = none). */
    storage: async () => (await http.json(usageResponse, '/api/usage', { query: { days: 1 } })).storage,

    /** The server's export (all conversations with every branch), as a downloadable blob. */
    exportAll: async () => (await http.send('/api/conversations/export')).blob(),
    /** One conversation in the same format (importable as it is). */
    exportConversation: async (conversationId: string) =>
      (await http.send(`/api/conversations/${id(conversationId)}/export`)).blob(),
    importFile: (file: File) =>
      http.json(importResult, '/api/conversations/import', {
        body: file,
        headers: { 'Content-Type': 'application/json' },
      }),

    admin: {
      /** Every user's tokens by day, user and model (chat-api pages them; all pages are read). */
      usage: async (days = 30) => {
        const rows: AdminUsageRow[] = [];
        let cursor: string | null = null;
        for (let page = 0; page < USAGE_MAX_PAGES; page += 1) {
          const body: Page<AdminUsageRow> = await http.json(adminUsagePage, '/api/admin/usage', {
            query: { days, limit: USAGE_PAGE, cursor },
          });
          rows.push(...body.items);
          cursor = body.nextCursor;
          if (!cursor) break;
        }
        return rows;
      },
      /** Tokens of each group's current members over the last `days`. */
      usageByGroup: async (days = 30) =>
        (await http.json(groupUsageResponse, '/api/admin/usage/groups', { query: { days } })).items,
      limits: (userId: string) => http.json(userLimitsResponse, `/api/admin/users/${id(userId)}/limits`),
      /** Sends only the settable fields: the route rejects anything else (a strict schema). */
      setLimits: (userId: string, limits: Partial<UserLimits>) => {
        const patch: Partial<UserLimits> = {};
        if (limits.requestsPerMinute !== undefined) patch.requestsPerMinute = limits.requestsPerMinute;
        if (limits.dailyTokenBudget !== undefined) patch.dailyTokenBudget = limits.dailyTokenBudget;
        if (limits.maxConcurrentStreams !== undefined)
          patch.maxConcurrentStreams = limits.maxConcurrentStreams;
        if (limits.allowedModels !== undefined) patch.allowedModels = limits.allowedModels;
        if (limits.storageQuotaMb !== undefined) patch.storageQuotaMb = limits.storageQuotaMb;
        return http.json(userLimitsResponse, `/api/admin/users/${id(userId)}/limits`, {
          method: 'PUT',
          body: patch,
        });
      },
      /** The gateway's pool, as chat-api relays it to admins (the Ingress does not expose the gateway). */
      backends: (): Promise<BackendPool> => http.json(backendPool, '/api/admin/backends'),
      /** The pool's models with their "available to users" switch. */
      poolModels: async (): Promise<PoolModelView[]> =>
        (await http.json(poolModelListing, '/api/admin/models')).items,
      setAvailability: (model: string, availableToUsers: boolean): Promise<PoolModelView> =>
        http.json(poolModelView, `/api/admin/models/${id(model)}/availability`, {
          method: 'PUT',
          body: { availableToUsers },
        }),
      /** Ollama's delete on every backend. */
      removeModel: (model: string): Promise<ModelRemoval> =>
        http.json(modelRemoval, `/api/admin/models/${id(model)}`, { method: 'DELETE' }),
      /** The gateway pulls the model onto every healthy backend; chat-api relays its NDJSON progress. */
      async pullModel(
        model: string,
        onProgress?: (line: Record<string, unknown>) => void,
      ): Promise<PullSummary> {
        const res = await http.send('/api/admin/models/pull', { body: { model } });
        if (!res.body) throw new NetworkError('The gateway sent no progress stream.');
        for await (const line of readNdjson(res.body)) {
          if (line.done !== true) {
            onProgress?.(line);
            continue;
          }
          const summary = pullSummary.safeParse(line);
          if (summary.success) return summary.data;
          const broken = pullBroken.safeParse(line);
          if (broken.success) throw new NetworkError(`The model pull broke off: ${broken.data.error}.`);
          throw new UnexpectedAnswer('/api/admin/models/pull', 'its last line is not a pull summary');
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
