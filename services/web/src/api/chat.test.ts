import { describe, expect, it, vi } from 'vitest';
import { chatApi, readNdjson } from './chat.js';
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

describe('admin calls match chat-api’s and the gateway’s routes', () => {
  it('setLimits sends only the fields the strict limits schema accepts', async () => {
    const { api, requests } = clientAnswering(() => Response.json({ userId: 'u1' }));
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

  it('pullModel posts to chat-api’s /api/admin/models/pull relay (the path the Ingress routes) and resolves with the summary line', async () => {
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
