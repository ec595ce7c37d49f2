import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ODD_STRINGS, type Fields, expectAlive, oddString, snapshotUser } from '../support/fuzz.js';
import { type User, call, chatTurn, createConversation, loginAdmin, signUp } from '../support/http.js';
import {
  type BodyRoute,
  fuzzAuthorization,
  fuzzInvalidBodies,
  fuzzOddValues,
  fuzzQueries,
} from '../support/properties.js';
import { fuzzStack, serviceUrls, snapshotDb } from '../support/shared-stack.js';

const conversationFields: Fields = {
  title: { kind: 'string', max: 200 },
  model: { kind: 'string', max: 200 },
  systemPrompt: { kind: 'nullableString', max: 20_000 },
  tags: { kind: 'stringArray' },
};
const patchFields: Fields = {
  ...conversationFields,
  pinned: { kind: 'boolean' },
  archived: { kind: 'boolean' },
  currentMessageId: { kind: 'string', max: 36 },
};
const limitFields: Fields = {
  requestsPerMinute: { kind: 'nullableNumber' },
  dailyTokenBudget: { kind: 'nullableNumber' },
  maxConcurrentStreams: { kind: 'nullableNumber' },
  allowedModels: { kind: 'nullableStringArray' },
};

let victim: User;
let admin: User;
let scratch: User;
let conversationId: string;
let userMessageId: string;
let assistantMessageId: string;
let before: unknown;
const chat = () => fuzzStack().chatUrl;

beforeAll(async () => {
  const { authUrl, chatUrl } = fuzzStack();
  [victim, admin, scratch] = await Promise.all([
    signUp(authUrl, 'chat-victim'),
    loginAdmin(authUrl),
    signUp(authUrl, 'chat-scratch'),
  ]);
  conversationId = await createConversation(chatUrl, victim.token, 'victim conversation');
  await chatTurn(chatUrl, victim.token, conversationId, 'hello there');
  const messages = await call(chatUrl, `/api/conversations/${conversationId}/messages`, {
    token: victim.token,
  });
  const items = (messages.json as { items: Array<{ id: string; role: string }> }).items;
  userMessageId = items.find((m) => m.role === 'user')?.id ?? '';
  assistantMessageId = items.find((m) => m.role === 'assistant')?.id ?? '';
  expect(userMessageId && assistantMessageId).toBeTruthy();
  before = await snapshotUser(victim.id, snapshotDb());
});

afterAll(async () => {
  // Nothing the fuzzing sent may have changed the victim's data.
  if (victim) expect(await snapshotUser(victim.id, snapshotDb())).toEqual(before);
});

describe('chat-api /api: invalid bodies are 4xx problem+json and change nothing', () => {
  const conv = () => `/api/conversations/${conversationId}`;
  const routes = (): Array<Omit<BodyRoute, 'shape'>> => [
    { method: 'POST' as const, path: '/api/conversations', fields: conversationFields, emptyIsValid: true },
    { method: 'PATCH' as const, path: conv(), fields: patchFields },
    {
      method: 'POST' as const,
      path: `${conv()}/messages`,
      fields: {
        content: { kind: 'string', max: 400_000 },
        model: { kind: 'string', max: 200 },
      } satisfies Fields,
    },
    {
      method: 'POST' as const,
      path: `${conv()}/messages/${assistantMessageId}/regenerate`,
      fields: { model: { kind: 'string', max: 200 } } satisfies Fields,
      emptyIsValid: true,
    },
    {
      method: 'POST' as const,
      path: `${conv()}/messages/${userMessageId}/edit`,
      fields: { content: { kind: 'string', max: 400_000 } } satisfies Fields,
    },
    {
      method: 'POST' as const,
      path: '/api/conversations/import',
      fields: {
        format: { kind: 'string' },
        version: { kind: 'number' },
        conversations: { kind: 'array' },
      } satisfies Fields,
    },
  ];
  it('conversation, message and import routes', { timeout: 120_000 }, async () => {
    for (const route of routes()) {
      await fuzzInvalidBodies(chat(), { ...route, shape: 'problem', token: victim.token, numRuns: 60 });
      await expectAlive(serviceUrls());
    }
  });

  it('admin limit routes (as an admin, aimed at the victim)', async () => {
    await fuzzInvalidBodies(chat(), {
      method: 'PUT',
      path: `/api/admin/users/${victim.id}/limits`,
      fields: limitFields,
      shape: 'problem',
      token: admin.token,
      emptyIsValid: true,
    });
    await fuzzInvalidBodies(chat(), {
      method: 'PUT',
      path: `/api/admin/api-keys/${victim.id}/limits`,
      fields: { dailyTokenBudget: { kind: 'nullableNumber' } },
      shape: 'problem',
      token: admin.token,
      emptyIsValid: true,
    });
    await expectAlive(serviceUrls());
  });
});

describe('chat-api /api: hostile queries, paths and headers', () => {
  it('read routes never answer 5xx', { timeout: 120_000 }, async () => {
    const reads = [
      { path: '/api/conversations', queryNames: ['limit', 'cursor', 'q', 'pinned', 'archived'] },
      { path: `/api/conversations/${conversationId}/messages`, queryNames: ['branch'] },
      { path: '/api/usage', queryNames: ['days'] },
      { path: '/api/models', queryNames: ['q'] },
      { path: `/api/conversations/${conversationId}/export`, queryNames: ['format'] },
    ];
    for (const read of reads) {
      await fuzzQueries(chat(), { ...read, shape: 'problem', token: victim.token, numRuns: 40 });
    }
    await fuzzQueries(chat(), {
      path: '/api/admin/usage',
      queryNames: ['days', 'userId', 'model', 'limit', 'cursor'],
      shape: 'problem',
      token: admin.token,
    });
    await expectAlive(serviceUrls());
  });

  it('odd conversation ids in the path are 404/400, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        oddString().filter((id) => id.trim() !== ''),
        fc.constantFrom('', '/messages', '/export', '/stop'),
        async (id, tail) => {
          const path = `/api/conversations/${encodeURIComponent(id.replace(/[\ud800-\udfff]/g, '?'))}${tail}`;
          const reply = await call(chat(), path, {
            token: victim.token,
            method: tail === '/stop' ? 'POST' : 'GET',
          });
          expect(
            reply.status,
            `${path} → ${reply.status} ${reply.text.slice(0, 300)}`,
          ).toBeGreaterThanOrEqual(400);
          expect(reply.status, `${path} → ${reply.status} ${reply.text.slice(0, 300)}`).toBeLessThan(500);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('hostile Authorization headers are 401', async () => {
    await fuzzAuthorization(chat(), { method: 'GET', path: '/api/conversations' }, 'problem');
    await fuzzAuthorization(
      chat(),
      { method: 'POST', path: `/api/conversations/${conversationId}/messages`, body: '{"content":"hi"}' },
      'problem',
    );
    await expectAlive(serviceUrls());
  });
});

describe('chat-api /api: odd but well-typed values (scratch account) never cause a 5xx', () => {
  // Lone surrogates in tags are a known 500 (unstorable-text.test.ts): left out here.
  const oddTags = fc.array(
    oddString().map((t) => t.replace(/[\ud800-\udfff]/g, '?')),
    { maxLength: 3 },
  );
  it('conversations', async () => {
    await fuzzOddValues(chat(), {
      method: 'POST',
      path: '/api/conversations',
      shape: 'problem',
      token: scratch.token,
      body: fc.record({ title: oddString(), systemPrompt: oddString(), tags: oddTags }, { requiredKeys: [] }),
    });
    const id = await createConversation(chat(), scratch.token);
    await fuzzOddValues(chat(), {
      method: 'PATCH',
      path: `/api/conversations/${id}`,
      shape: 'problem',
      token: scratch.token,
      body: fc.record(
        { title: oddString(), systemPrompt: oddString(), tags: oddTags },
        { requiredKeys: ['title'] },
      ),
    });
    await expectAlive(serviceUrls());
  });

  it('messages', async () => {
    const id = await createConversation(chat(), scratch.token);
    await fuzzOddValues(chat(), {
      method: 'POST',
      path: `/api/conversations/${id}/messages`,
      shape: 'problem',
      token: scratch.token,
      numRuns: 25,
      body: fc.record({ content: fc.constantFrom(...ODD_STRINGS.filter((s) => s.trim() !== '')) }),
    });
    await expectAlive(serviceUrls());
  });

  it('the conversation list searched with odd text', async () => {
    for (const q of ODD_STRINGS) {
      const reply = await call(
        chat(),
        `/api/conversations?q=${encodeURIComponent(q.replace(/[\ud800-\udfff]/g, '?'))}`,
        {
          token: scratch.token,
        },
      );
      expect(
        reply.status,
        `q=${JSON.stringify(q)} → ${reply.status} ${reply.text.slice(0, 300)}`,
      ).toBeLessThan(500);
    }
  });

  it('prototype-pollution keys leave roles alone', async () => {
    const polluted =
      '{"__proto__":{"role":"admin","isAdmin":true},"constructor":{"prototype":{"role":"admin"}},"title":"p"}';
    const reply = await call(chat(), '/api/conversations', {
      token: scratch.token,
      body: JSON.parse(polluted),
    });
    expect(reply.status).toBeLessThan(500);
    const raw = await fetch(`${chat()}/api/conversations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${scratch.token}`, 'content-type': 'application/json' },
      body: polluted,
    });
    expect(raw.status).toBeLessThan(500);
    // A user is still not an admin anywhere afterwards.
    expect((await call(chat(), '/api/admin/usage', { token: scratch.token })).status).toBe(403);
  });
});
