// Issue 21, finding 1: API-key scope escalation. Every key-management and admin route (auth,
// chat-api's admin relays, the gateway's /admin) and every chat-api route beyond generation (the
// owner's history, export, import, usage) with every kind of key: nothing wider than the key
// itself is ever allowed, and nothing changes.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Reply, type User, call, createConversation, loginAdmin, signUp } from '../support/http.js';
import { fuzzStack } from '../support/shared-stack.js';
import { GATEWAY_SERVICE_TOKEN } from '../support/stack.js';

interface KeyKind {
  kind: string;
  key: string;
  id: string;
  /** Holds the `keys` scope: may manage the keys it creates (never wider than itself). */
  managesKeys: boolean;
}

let victim: User;
let admin: User;
let victimKeyId: string;
let kinds: KeyKind[];
let kidBefore: string;
/** One conversation of the victim's and one of the admin's, that no key may read or change. */
let conversations: { id: string; owner: User; title: string }[];

const auth = () => fuzzStack().authUrl;

async function createKey(
  token: string,
  path: string,
  body: Record<string, unknown>,
): Promise<{ key: string; id: string }> {
  const res = await call(auth(), path, { token, body });
  if (res.status !== 201) throw new Error(`create key ${path}: ${res.status} ${res.text}`);
  const created = res.json as { key: string; apiKey: { id: string } };
  return { key: created.key, id: created.apiKey.id };
}

const currentKid = async () => {
  const jwks = await call(auth(), '/.well-known/jwks.json');
  return JSON.stringify((jwks.json as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort());
};

beforeAll(async () => {
  [victim, admin] = await Promise.all([signUp(auth(), 'scope-victim'), loginAdmin(auth())]);
  victimKeyId = (await createKey(victim.token, '/api/auth/api-keys', { name: 'victim laptop' })).id;
  const soon = new Date(Date.now() + 3_600_000).toISOString();
  const kind = async (
    name: string,
    token: string,
    path: string,
    body: Record<string, unknown>,
    managesKeys = false,
  ) => ({
    kind: name,
    managesKeys,
    ...(await createKey(token, path, { name, ...body })),
  });
  kinds = [
    await kind('user inference key', victim.token, '/api/auth/api-keys', {}),
    await kind('user key, one model, expiring', victim.token, '/api/auth/api-keys', {
      models: ['m'],
      expiresAt: soon,
    }),
    await kind('admin inference ("embed-only") key', admin.token, '/api/auth/api-keys', {}),
    await kind(
      'user key granted the keys scope, limited',
      admin.token,
      `/api/auth/admin/users/${victim.id}/api-keys`,
      { scopes: ['inference', 'keys'], models: ['m'], expiresAt: soon },
      true,
    ),
    await kind(
      'admin key granted the keys scope',
      admin.token,
      `/api/auth/admin/users/${admin.id}/api-keys`,
      { scopes: ['inference', 'keys'] },
      true,
    ),
  ];
  kidBefore = await currentKid();
  conversations = await Promise.all(
    [victim, admin].map(async (owner) => {
      const title = `private ${owner === victim ? 'victim' : 'admin'}`;
      return { id: await createConversation(fuzzStack().chatUrl, owner.token, title), owner, title };
    }),
  );
});

afterAll(async () => {
  // Nothing an attempt could have changed did change.
  const me = await call(auth(), '/api/auth/me', { token: victim.token });
  expect((me.json as { user: { role: string; status: string } }).user).toMatchObject({
    role: 'user',
    status: 'active',
  });
  expect(await currentKid()).toBe(kidBefore);
  const victimKey = await call(auth(), `/api/auth/admin/users/${victim.id}/api-keys`, { token: admin.token });
  const laptop = (victimKey.json as { items: { id: string; revokedAt: string | null }[] }).items.find(
    (k) => k.id === victimKeyId,
  );
  expect(laptop?.revokedAt).toBeNull();
  // Every conversation is still there, as it was, and nothing was imported.
  for (const { owner, title } of conversations) {
    const list = await call(fuzzStack().chatUrl, '/api/conversations', { token: owner.token });
    const titles = (list.json as { items: { title: string }[] }).items.map((c) => c.title);
    expect(titles).toContain(title);
    expect(titles).not.toContain('taken');
    expect(titles).not.toContain('planted');
  }
});

/** Every route that manages keys or needs an admin, with a body where it takes one. */
function adminRoutes(): Array<{
  base: string;
  method: string;
  path: string;
  body?: unknown;
  token?: (key: string) => string;
  headers?: Record<string, string>;
}> {
  const { chatUrl, gatewayUrl } = fuzzStack();
  const a = auth();
  const id = victim.id;
  return [
    { base: a, method: 'GET', path: '/api/auth/admin/users' },
    { base: a, method: 'GET', path: `/api/auth/admin/users/${id}` },
    { base: a, method: 'POST', path: `/api/auth/admin/users/${id}/activate` },
    { base: a, method: 'POST', path: `/api/auth/admin/users/${id}/disable` },
    { base: a, method: 'PUT', path: `/api/auth/admin/users/${id}/role`, body: { role: 'admin' } },
    {
      base: a,
      method: 'POST',
      path: `/api/auth/admin/users/${id}/password`,
      body: { password: 'taken-over-passphrase' },
    },
    { base: a, method: 'GET', path: `/api/auth/admin/users/${id}/api-keys` },
    { base: a, method: 'POST', path: `/api/auth/admin/users/${id}/api-keys`, body: { name: 'backdoor' } },
    { base: a, method: 'POST', path: '/api/auth/admin/keys/rotate' },
    { base: a, method: 'GET', path: '/api/auth/admin/audit' },
    { base: a, method: 'GET', path: '/api/auth/admin/audit/export' },
    { base: chatUrl, method: 'GET', path: `/api/admin/users/${id}/limits` },
    { base: chatUrl, method: 'PUT', path: `/api/admin/users/${id}/limits`, body: { dailyTokenBudget: null } },
    { base: chatUrl, method: 'GET', path: `/api/admin/api-keys/${victimKeyId}/limits` },
    {
      base: chatUrl,
      method: 'PUT',
      path: `/api/admin/api-keys/${victimKeyId}/limits`,
      body: { dailyTokenBudget: null },
    },
    { base: chatUrl, method: 'GET', path: '/api/admin/usage' },
    { base: chatUrl, method: 'GET', path: '/api/admin/backends' },
    { base: chatUrl, method: 'POST', path: '/api/admin/models/pull', body: { model: 'x' } },
    { base: chatUrl, method: 'GET', path: '/api/metrics/chat' },
    { base: gatewayUrl, method: 'GET', path: '/admin/backends' },
    { base: gatewayUrl, method: 'POST', path: '/admin/backends/0/drain' },
    { base: gatewayUrl, method: 'POST', path: '/admin/models/pull', body: { model: 'x' } },
  ];
}

/** chat-api's routes beyond generation: the owner's history and account (a session, or `account`). */
function accountRoutes(): Array<{ method: string; path: string; body?: unknown }> {
  const at = new Date().toISOString();
  const importFile = {
    format: 'corral.conversations',
    version: 1,
    conversations: [
      {
        id: randomUUID(),
        title: 'planted',
        model: 'm',
        systemPrompt: null,
        tags: [],
        pinned: false,
        archived: false,
        currentMessageId: null,
        createdAt: at,
        updatedAt: at,
        messages: [],
      },
    ],
  };
  return [
    { method: 'GET', path: '/api/conversations' },
    { method: 'GET', path: '/api/conversations?q=private' },
    { method: 'GET', path: '/api/conversations/export' },
    { method: 'POST', path: '/api/conversations/import', body: importFile },
    { method: 'GET', path: '/api/usage' },
    ...conversations.flatMap(({ id }) => [
      { method: 'GET', path: `/api/conversations/${id}` },
      { method: 'GET', path: `/api/conversations/${id}/messages?branch=all` },
      { method: 'GET', path: `/api/conversations/${id}/export` },
      { method: 'PATCH', path: `/api/conversations/${id}`, body: { title: 'taken', pinned: true } },
      { method: 'DELETE', path: `/api/conversations/${id}` },
    ]),
  ];
}

const refused = (res: Reply) => res.status === 401 || res.status === 403;

describe('API-key scope escalation: every admin route with every key kind', () => {
  it('is refused (401/403) everywhere and changes nothing', { timeout: 180_000 }, async () => {
    const failures: string[] = [];
    for (const { kind, key } of kinds) {
      for (const route of adminRoutes()) {
        const res = await call(route.base, route.path, {
          method: route.method,
          token: key,
          ...(route.body === undefined ? {} : { body: route.body }),
        });
        if (!refused(res)) failures.push(`${kind}: ${route.method} ${route.path} → ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
    // The gateway itself is still up for its real caller.
    const tags = await call(fuzzStack().gatewayUrl, '/api/tags', { token: GATEWAY_SERVICE_TOKEN });
    expect(tags.status).toBe(200);
  });
});

describe('API-key scope escalation: key management with every key kind', () => {
  it('an inference key manages no keys; a keys-scoped key creates only narrower ones and sees only those', async () => {
    for (const { kind, key, id, managesKeys } of kinds) {
      const wider = await call(auth(), '/api/auth/api-keys', {
        token: key,
        body: {
          name: 'wider',
          models: null,
          expiresAt: null,
          scopes: ['inference', 'keys', 'account', 'admin'],
        },
      });
      expect(wider.status, `${kind}: a wider key`).toBe(403);
      const list = await call(auth(), '/api/auth/api-keys', { token: key });
      const revokeOther = await call(auth(), `/api/auth/api-keys/${victimKeyId}`, {
        token: key,
        method: 'DELETE',
      });
      if (!managesKeys) {
        expect([list.status, revokeOther.status], kind).toEqual([403, 403]);
        expect(
          (await call(auth(), '/api/auth/api-keys', { token: key, body: { name: 'n' } })).status,
          kind,
        ).toBe(403);
        continue;
      }
      expect(revokeOther.status, `${kind}: someone else's key`).toBe(404);
      const child = await call(auth(), '/api/auth/api-keys', { token: key, body: { name: 'child' } });
      expect(child.status, kind).toBe(201);
      const created = (child.json as { apiKey: { id: string; parentKeyId: string } }).apiKey;
      expect(created.parentKeyId).toBe(id);
      const seen = await call(auth(), '/api/auth/api-keys', { token: key });
      expect(
        (seen.json as { items: { id: string }[] }).items.map((k) => k.id),
        kind,
      ).toEqual([created.id]);
    }
  });
});

describe('API-key scope escalation: chat-api history and account routes with every key kind', () => {
  it('none of the keys (no account scope) reads, changes, exports or imports anything', async () => {
    const failures: string[] = [];
    for (const { kind, key } of kinds) {
      for (const route of accountRoutes()) {
        const res = await call(fuzzStack().chatUrl, route.path, {
          method: route.method,
          token: key,
          ...(route.body === undefined ? {} : { body: route.body }),
        });
        if (res.status !== 403) failures.push(`${kind}: ${route.method} ${route.path} → ${res.status}`);
        else if (!String(res.headers['www-authenticate']).includes('scope="account"')) {
          failures.push(`${kind}: ${route.method} ${route.path} → 403 without the scope challenge`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
