import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@corral/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type User, call, createConversation, signUp } from '../support/http.js';
import { type DedicatedPostgres, createPostgres } from '../support/postgres.js';
import { type Stack, startStack } from '../support/stack.js';

let postgres: DedicatedPostgres;
let stack: Stack;
let user: User;

beforeAll(async () => {
  postgres = await createPostgres();
  await postgres.start();
  stack = await startStack({
    databaseUrl: postgres.url,
    // 20 tokens a second for 200 tokens: PostgreSQL stops while the reply streams.
    sims: [['--tokens-per-second', '20', '--ttft-ms', '0', '--response-tokens', '200']],
    env: {
      all: { LOG_LEVEL: 'error' },
      chat: {
        PENDING_SAVES_FILE: join(tmpdir(), `corral-fuzz-pending-${process.pid}-${Date.now()}.jsonl`),
        STREAM_STALE_SECONDS: '1',
        SWEEP_INTERVAL_SECONDS: '1',
      },
    },
  });
  user = await signUp(stack.auth.url, 'pgreply');
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await postgres?.destroy();
});

describe('PostgreSQL stops while a reply streams (issue 21, finding 2)', () => {
  it(
    'the finished reply is kept, reported pending, and stored whole once PostgreSQL is back',
    { timeout: 90_000 },
    async () => {
      const chat = stack.chat!.url;
      const conversationId = await createConversation(chat, user.token, 'pg goes away');
      const res = await fetch(`${chat}/api/conversations/${conversationId}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'Write a long essay' }),
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let events = '';
      let stopped = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        events += Buffer.from(value).toString('utf8');
        if (!stopped && events.includes('event: token')) {
          stopped = true;
          await postgres.stop();
        }
      }
      const received = [...events.matchAll(/event: token\ndata: (.*)\n/g)]
        .map((m) => (JSON.parse(m[1] ?? '{}') as { text: string }).text)
        .join('');
      const done = /event: done\ndata: (.*)\n/.exec(events)?.[1];
      expect(done, events.slice(-500)).toBeDefined();
      expect(JSON.parse(done!)).toMatchObject({
        status: 'complete',
        finalSave: 'pending',
        completionTokens: 200,
      });

      await postgres.start();
      const reply = await waitFor(
        'the reply stored complete',
        async () => {
          const list = await call(chat, `/api/conversations/${conversationId}/messages`, {
            token: user.token,
          });
          if (list.status !== 200) return undefined;
          const found = (
            list.json as { items: Array<{ role: string; status: string; content: string }> }
          ).items.find((m) => m.role === 'assistant');
          return found?.status === 'complete' ? found : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(reply.content).toBe(received);
      console.log(
        `postgres down at the end of a reply: ${received.length} chars streamed, ${reply.content.length} stored`,
      );
    },
  );
});
