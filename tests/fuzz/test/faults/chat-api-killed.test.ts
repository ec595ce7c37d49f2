import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@corral/test-support';
import { type User, call, createConversation, signUp } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let user: User;

beforeAll(async () => {
  stack = await startStack({
    // A long, slow reply: it is mid-stream when the process dies.
    sims: [['--tokens-per-second', '25', '--response-tokens', '2000', '--ttft-ms', '0']],
    env: { all: { LOG_LEVEL: 'error' }, chat: { STREAM_FLUSH_INTERVAL_MS: '50' } },
  });
  user = await signUp(stack.auth.url, 'killed');
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

interface StoredMessage {
  id: string;
  role: string;
  content: string;
  status: string;
}

describe('chat-api killed mid-stream (SIGKILL) and restarted', () => {
  it('keeps the question and the partial reply, marked interrupted', { timeout: 60_000 }, async () => {
    const first = stack.chat!;
    const conversationId = await createConversation(first.url, user.token, 'kill me');
    const controller = new AbortController();
    const res = await fetch(`${first.url}/api/conversations/${conversationId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'Write a very long essay' }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = '';
    let events = '';
    // Read until some text has arrived (and so been flushed at least once).
    while (received.length < 40) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended early:\n${events}`);
      events += Buffer.from(value).toString('utf8');
      received = [...events.matchAll(/event: token\ndata: (.*)\n/g)]
        .map((m) => (JSON.parse(m[1] ?? '{}') as { text: string }).text)
        .join('');
    }
    const messages = async (url: string) =>
      (
        (await call(url, `/api/conversations/${conversationId}/messages`, { token: user.token })).json as {
          items: StoredMessage[];
        }
      ).items;

    await first.kill();
    controller.abort();

    // A new process, whose sweep finds the orphan (stale after 1 s, checked every second).
    const restarted = await stack.restartChat({ STREAM_STALE_SECONDS: '1', SWEEP_INTERVAL_SECONDS: '1' });
    const items = await waitFor('the orphaned reply to be marked interrupted', async () => {
      const found = await messages(restarted.url);
      return found.find((m) => m.role === 'assistant')?.status === 'interrupted' ? found : undefined;
    });
    const question = items.find((m) => m.role === 'user');
    const reply = items.find((m) => m.role === 'assistant');
    expect(question).toMatchObject({ content: 'Write a very long essay', status: 'complete' });
    expect(reply?.status).toBe('interrupted');
    expect(reply?.content.length).toBeGreaterThan(0);
    // What was saved and what the client saw are both prefixes of the same reply.
    const saved = reply?.content ?? '';
    expect(received.startsWith(saved) || saved.startsWith(received)).toBe(true);
    console.log(`chat-api killed: client had ${received.length} chars, ${saved.length} were saved`);
    // And the conversation carries on.
    expect((await call(restarted.url, '/api/conversations', { token: user.token })).status).toBe(200);
  });
});
