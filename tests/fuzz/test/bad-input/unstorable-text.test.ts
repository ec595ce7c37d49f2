// Text PostgreSQL cannot store: a NUL character (U+0000) in `text`, a lone surrogate (\ud800) in
// `jsonb`. Both are valid JSON and pass every zod schema; each route here must answer 4xx (or
// store the text cleaned), never 500.
import { beforeAll, describe, expect, it } from 'vitest';
import { type User, call, createConversation, signUp } from '../support/http.js';
import { fuzzStack } from '../support/shared-stack.js';

let user: User;
let conversationId: string;

beforeAll(async () => {
  user = await signUp(fuzzStack().authUrl, 'nul');
  conversationId = await createConversation(fuzzStack().chatUrl, user.token);
});

describe('text the database cannot store', () => {
  it('chat-api: a NUL in a title, message, tag or search, or a lone surrogate in a tag, is refused with a 4xx, not a 500', async () => {
    const chat = fuzzStack().chatUrl;
    const token = user.token;
    const attempts = [
      [
        'POST /api/conversations title',
        () => call(chat, '/api/conversations', { token, body: { title: 'a\u0000b' } }),
      ],
      [
        'POST /api/conversations tags',
        () => call(chat, '/api/conversations', { token, body: { tags: ['\u0000'] } }),
      ],
      [
        'PATCH /api/conversations/:id systemPrompt',
        () =>
          call(chat, `/api/conversations/${conversationId}`, {
            method: 'PATCH',
            token,
            body: { systemPrompt: 'x\u0000' },
          }),
      ],
      [
        'POST /api/conversations/:id/messages content',
        () =>
          call(chat, `/api/conversations/${conversationId}/messages`, {
            token,
            body: { content: 'hi\u0000' },
          }),
      ],
      [
        'POST /api/conversations tags (lone surrogate)',
        () => call(chat, '/api/conversations', { token, body: { tags: ['\ud800'] } }),
      ],
      ['GET /api/conversations?q=%00', () => call(chat, '/api/conversations?q=%00', { token })],
    ] as const;
    for (const [what, attempt] of attempts) {
      const reply = await attempt();
      expect.soft(reply.status, `${what} → ${reply.status} ${reply.text.slice(0, 200)}`).toBeLessThan(500);
    }
  });

  it("auth: a NUL in an email, name or key name, or a lone surrogate in a key's models, is refused with a 4xx, not a 500", async () => {
    const auth = fuzzStack().authUrl;
    const attempts = [
      [
        'register name',
        () =>
          call(auth, '/api/auth/register', {
            body: { email: `nul-${Date.now()}@fuzz.test`, password: 'nul-password-123', name: 'a\u0000' },
          }),
      ],
      [
        'login email',
        () =>
          call(auth, '/api/auth/login', { body: { email: 'a\u0000@fuzz.test', password: 'whatever-123' } }),
      ],
      [
        'API key name',
        () => call(auth, '/api/auth/api-keys', { token: user.token, body: { name: 'k\u0000' } }),
      ],
      [
        'API key models (lone surrogate)',
        () =>
          call(auth, '/api/auth/api-keys', { token: user.token, body: { name: 'k', models: ['\ud800'] } }),
      ],
      [
        'introspect token',
        () => call(auth, '/api/auth/introspect', { token: 'x', body: { token: 'sk-corral-\u0000' } }),
      ],
    ] as const;
    for (const [what, attempt] of attempts) {
      const reply = await attempt();
      expect.soft(reply.status, `${what} → ${reply.status} ${reply.text.slice(0, 200)}`).toBeLessThan(500);
    }
  });
});
