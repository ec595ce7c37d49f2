// chat-api's routes the web app calls, over HTTP through the web origin with the bodies the SPA
// sends (services/web/src/api/chat.ts): a streamed reply, its generated title, export/import,
// and the admin views (limits, usage, the gateway's pool and model pull).
import { beforeAll, describe, expect, it } from 'vitest';
import { activeUser, adminSession, call, type Session } from './support/accounts.js';
import { corral } from './support/stack.js';

let owner: Session;
let other: Session;
let admin: Session;
let conversationId: string;

/** What the SPA does to send a message: POST …/messages and read the SSE stream to its end. */
async function sendMessage(
  session: Session,
  id: string,
  content: string,
): Promise<Array<{ event: string; data: Record<string, unknown> }>> {
  const res = await fetch(`${corral().baseUrl}/api/conversations/${id}/messages`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${session.accessToken}`,
      'Content-Type': 'application/json',
      Accept: 'text/event-stream',
    },
    body: JSON.stringify({ content }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: Array<{ event: string; data: Record<string, unknown> }> = [];
  for (const block of (await res.text()).split('\n\n')) {
    const event = /^event: (.+)$/m.exec(block)?.[1];
    const data = /^data: (.+)$/m.exec(block)?.[1];
    if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
  }
  return events;
}

beforeAll(async () => {
  [owner, other, admin] = await Promise.all([
    activeUser('chat-owner').then((u) => u.session),
    activeUser('chat-other').then((u) => u.session),
    adminSession(),
  ]);
  const created = await call('/api/conversations', { body: {}, token: owner.accessToken });
  expect(created.status).toBe(201);
  conversationId = (created.body.conversation as { id: string }).id;
});

describe('a conversation, as the chat view drives it', () => {
  it('streams a reply as start, tokens and done, and saves both messages', async () => {
    const events = await sendMessage(owner, conversationId, 'How do I build a corral fence?');
    expect(events[0]?.event).toBe('start');
    expect(events.filter((e) => e.event === 'token').length).toBeGreaterThan(1);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'complete' } });
    const messages = await call(`/api/conversations/${conversationId}/messages?branch=all`, {
      token: owner.accessToken,
    });
    const items = messages.body.items as Array<{ role: string; status: string; content: string }>;
    expect(items.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(items[1]?.content.trim()).not.toBe('');
  });

  it('gets a generated title after the first exchange (the sidebar picks it up)', async () => {
    await expect
      .poll(
        async () =>
          (await call(`/api/conversations/${conversationId}`, { token: owner.accessToken })).body
            .conversation,
        { timeout: 30_000, interval: 250 },
      )
      .toMatchObject({ titleSource: 'generated', title: expect.stringMatching(/\S/) });
  });

  it('another user cannot read it', async () => {
    const res = await call(`/api/conversations/${conversationId}`, { token: other.accessToken });
    expect(res.status).toBe(404);
  });
});

describe('export and import (settings page, sidebar "Export")', () => {
  it('exports one conversation, and another account imports it once (a second import is skipped)', async () => {
    const exported = await fetch(`${corral().baseUrl}/api/conversations/${conversationId}/export`, {
      headers: { Authorization: `Bearer ${owner.accessToken}` },
    });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toMatch(/attachment; filename="corral-conversation-/);
    const file = (await exported.json()) as { format: string; conversations: Array<{ messages: unknown[] }> };
    expect(file.format).toBe('corral.conversations');
    expect(file.conversations).toHaveLength(1);
    expect(file.conversations[0]?.messages).toHaveLength(2);

    const first = await call('/api/conversations/import', { body: file, token: other.accessToken });
    expect(first.status).toBe(200);
    // The id belongs to the owner, so the copy gets a new one.
    expect(first.body).toMatchObject({ imported: 1, skipped: 0, messages: 2 });
    expect(first.body.renamed).toHaveLength(1);

    const all = await fetch(`${corral().baseUrl}/api/conversations/export`, {
      headers: { Authorization: `Bearer ${other.accessToken}` },
    });
    const mine = (await all.json()) as typeof file;
    expect(mine.conversations).toHaveLength(1);
    const again = await call('/api/conversations/import', { body: mine, token: other.accessToken });
    expect(again.body).toMatchObject({ imported: 0, skipped: 1 });
  });
});

describe('admin views', () => {
  it('sets a user’s limits with the fields the limits editor sends, and reads them back with defaults', async () => {
    const path = `/api/admin/users/${owner.user.id}/limits`;
    const saved = await call(path, {
      method: 'PUT',
      body: { dailyTokenBudget: 50_000, requestsPerMinute: null, maxConcurrentStreams: 2 },
      token: admin.accessToken,
    });
    expect(saved.status).toBe(200);
    const read = await call(path, { token: admin.accessToken });
    expect(read.body).toMatchObject({
      userId: owner.user.id,
      dailyTokenBudget: 50_000,
      requestsPerMinute: null,
      maxConcurrentStreams: 2,
      effective: { dailyTokenBudget: 50_000, maxConcurrentStreams: 2 },
      defaults: expect.objectContaining({ requestsPerMinute: expect.any(Number) }),
    });
  });

  it('refuses the limits routes to non-admins', async () => {
    const res = await call(`/api/admin/users/${owner.user.id}/limits`, { token: owner.accessToken });
    expect(res.status).toBe(403);
  });

  it('shows everyone’s usage by day, user and model', async () => {
    const res = await call('/api/admin/usage?days=1&limit=1000', { token: admin.accessToken });
    expect(res.status).toBe(200);
    const rows = res.body.items as Array<{ userId: string; model: string; completionTokens: number }>;
    const row = rows.find((r) => r.userId === owner.user.id);
    expect(row?.model).toMatch(/^llama3\.2/);
    expect(row?.completionTokens).toBeGreaterThan(0);
  });

  it('shows the gateway’s pool and pulls a model onto it, through web’s /admin proxy', async () => {
    const pool = await call('/admin/backends', { token: admin.accessToken });
    expect(pool.status).toBe(200);
    const backends = pool.body.backends as Array<{ url: string; models: string[] }>;
    expect(backends.map((b) => b.url)).toEqual(corral().inference.urls);

    const pull = await fetch(`${corral().baseUrl}/admin/models/pull`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin.accessToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'tinyllama' }),
    });
    expect(pull.status).toBe(200);
    expect(pull.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await pull.text())
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ done: true, status: 'success', model: 'tinyllama' });
  });
});
