import type { ModelListing, UserLimitsResponse } from '@corral/contracts';
import { describe, expect, it, vi } from 'vitest';
import { chatApi, readNdjson } from './chat.js';
import { UnexpectedAnswer } from './errors.js';
import { ApiClient } from './http.js';

const streamOf = (...chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });

/** A client whose server records each request and answers with `reply`. */
function clientAnswering(reply: () => Response) {
  const requests: Array<{ url: string; method: string; body: string | null }> = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    requests.push({
      url: String(input),
      method: init?.method ?? 'GET',
      body: (init?.body as string) ?? null,
    });
    return reply();
  });
  return { api: chatApi(new ApiClient('', fetchImpl)), requests };
}

describe('readNdjson (the gateway’s pull progress)', () => {
  it('yields whole lines even when chunks split them, and the last line without a newline', async () => {
    const lines = [];
    for await (const line of readNdjson(streamOf('{"status":"pull', 'ing"}\n{"a":1}\n\n{"done":', 'true}'))) {
      lines.push(line);
    }
    expect(lines).toEqual([{ status: 'pulling' }, { a: 1 }, { done: true }]);
  });
});

describe('models', () => {
  const entry = (name: string, kind: 'chat' | 'embedding') => ({
    name,
    kind,
    size: 1,
    modifiedAt: null,
    details: {},
    capabilities: kind === 'chat' ? ['completion'] : ['embedding'],
    maxMessageChars: 400_000,
  });

  it('reads GET /api/models only: chat models by name, the default one first', async () => {
    const { api, requests } = clientAnswering(() =>
      Response.json({
        defaultModel: 'qwen2.5',
        items: [
          entry('llama3.2:latest', 'chat'),
          entry('nomic-embed-text:latest', 'embedding'),
          entry('qwen2.5:latest', 'chat'),
        ],
      } satisfies ModelListing),
    );
    expect(await api.models()).toEqual([
      { id: 'qwen2.5:latest', capabilities: ['completion'], maxMessageChars: 400_000 },
      { id: 'llama3.2:latest', capabilities: ['completion'], maxMessageChars: 400_000 },
    ]);
    expect(requests.map((r) => r.url)).toEqual(['/api/models']);
  });

  it('refuses an answer in another shape instead of guessing at it', async () => {
    const { api } = clientAnswering(() =>
      Response.json({ object: 'list', data: [{ id: 'llama3.2:latest' }] }),
    );
    await expect(api.models()).rejects.toBeInstanceOf(UnexpectedAnswer);
  });
});

describe('admin calls match chat-api’s routes', () => {
  it('setLimits sends only the fields the strict limits schema accepts', async () => {
    const { api, requests } = clientAnswering(() =>
      Response.json({
        userId: 'u1',
        requestsPerMinute: null,
        dailyTokenBudget: 1000,
        maxConcurrentStreams: null,
        allowedModels: null,
        updatedBy: 'admin',
        updatedAt: '2025-11-23T10:00:00.000Z',
        defaults: {
          requestsPerMinute: 60,
          dailyTokenBudget: 0,
          maxConcurrentStreams: 3,
          allowedModels: null,
          storageQuotaMb: 500,
        },
        effective: {
          groups: ['Research'],
          groupModels: ['team-model'],
          restrictedModels: ['team-model'],
          requestsPerMinute: 60,
          dailyTokenBudget: 1000,
          maxConcurrentStreams: 3,
          allowedModels: [],
          storageQuotaMb: 500,
        },
        storageUsedBytes: 0,
        storageQuotaMb: null,
      } satisfies UserLimitsResponse),
    );
    await api.admin.setLimits('u1', {
      dailyTokenBudget: 1000,
      requestsPerMinute: null,
      // What a GET returned and an editor might hand back: must not be sent.
      ...({ userId: 'u1', defaults: {}, effective: {}, updatedAt: null } as object),
    });
    expect(requests[0]).toMatchObject({ url: '/api/admin/users/u1/limits', method: 'PUT' });
    expect(JSON.parse(requests[0]!.body!)).toEqual({ dailyTokenBudget: 1000, requestsPerMinute: null });
  });

  it('usage reads every page of /api/admin/usage', async () => {
    const pages = [
      {
        items: [{ day: 'd', model: 'm', userId: 'a', requests: 1, promptTokens: 1, completionTokens: 1 }],
        nextCursor: 'c1',
      },
      {
        items: [{ day: 'd', model: 'm', userId: 'b', requests: 1, promptTokens: 1, completionTokens: 1 }],
        nextCursor: null,
      },
    ];
    let page = 0;
    const { api, requests } = clientAnswering(() => Response.json(pages[page++]));
    const rows = await api.admin.usage(7);
    expect(rows.map((row) => row.userId)).toEqual(['a', 'b']);
    expect(requests.map((r) => r.url)).toEqual([
      '/api/admin/usage?days=7&limit=1000',
      '/api/admin/usage?days=7&limit=1000&cursor=c1',
    ]);
  });

  // The Ingress sends /admin/* to the web app, not the gateway: chat-api's relay is the one route.
  it('pullModel posts to chat-api’s /api/admin/models/pull relay and resolves with the summary line', async () => {
    const { api, requests } = clientAnswering(
      () =>
        new Response(
          streamOf(
            '{"backend":"b1","status":"pulling manifest"}\n',
            '{"status":"success","model":"m","backends":[{"backend":"b1","status":"success"}],"skipped":[],"done":true}\n',
          ),
          { headers: { 'Content-Type': 'application/x-ndjson' } },
        ),
    );
    const progress: unknown[] = [];
    const summary = await api.admin.pullModel('m', (line) => progress.push(line));
    expect(requests[0]).toMatchObject({ url: '/api/admin/models/pull', method: 'POST' });
    expect(progress).toEqual([{ backend: 'b1', status: 'pulling manifest' }]);
    expect(summary).toMatchObject({ status: 'success', model: 'm', done: true });
  });
});
