import { freePort, TcpRelay, TEST_REDIS_URL } from '@corral/test-support';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ChatProcess,
  bearer,
  createConversation,
  expectProblem,
  openSse,
  readUntil,
  type TestChat,
  useChatApiStack,
} from './helpers.js';

const stack = useChatApiStack({ chat: false, users: ['user'] });

async function metric(chat: TestChat, pattern: RegExp): Promise<number> {
  const text = (await request(chat.url).get('/metrics').expect(200)).text;
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

describe('Redis stops while chat-api runs', () => {
  it('keeps serving with limits in this process, reports Redis down, stops locally, and recovers', async () => {
    // Redis "stopping" and "coming back" for this app only.
    const link = new TcpRelay(TEST_REDIS_URL);
    await link.open();
    const chat = await stack.startChat({
      env: {
        REDIS_URL: link.url,
        RATE_LIMIT_PER_MINUTE: '8',
        READ_RATE_LIMIT_PER_MINUTE: '8',
        MAX_CONCURRENT_STREAMS: '5',
      },
    });
    await request(chat.url).get('/readyz').expect(200);
    const conversation = await createConversation(chat, stack.user);

    await link.close();
    await expect
      .poll(async () => (await request(chat.url).get('/readyz')).body.status, { timeout: 5000 })
      .toBe('degraded');
    const ready = await request(chat.url).get('/readyz').expect(200);
    expect(ready.body.checks).toMatchObject({
      redis: { status: 'down' },
      postgres: { status: 'up' },
      gateway: { status: 'up' },
    });

    // Chat still works: a whole reply streams and is saved.
    const events = await (
      await openSse(`${chat.url}/api/conversations/${conversation.id}/messages`, stack.user.token, {
        content: 'Is anyone there?',
      })
    ).rest();
    expect(events.at(-1)?.event).toBe('done');
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ status: 'complete' });

    // Stop still works within this replica.
    stack.sim.setFailure({ mode: 'hang', paths: ['/api/chat'] });
    const stream = await openSse(
      `${chat.url}/api/conversations/${conversation.id}/messages`,
      stack.user.token,
      {
        content: 'Wait for it',
      },
    );
    await readUntil(stream, 'start');
    await request(chat.url)
      .post(`/api/conversations/${conversation.id}/stop`)
      .set(bearer(stack.user.token))
      .expect(200);
    expect(JSON.parse((await readUntil(stream, 'done')).event.data)).toMatchObject({ status: 'stopped' });
    stack.sim.setFailure({ mode: 'none' });

    // Rate limiting degrades to this process's count, still enforced (8 a minute, counted afresh here).
    let refused: request.Response | undefined;
    for (let i = 0; i < 10 && !refused; i += 1) {
      const res = await request(chat.url).get('/api/conversations').set(bearer(stack.user.token));
      if (res.status === 429) refused = res;
      else expect(res.status).toBe(200);
    }
    expect(refused, 'the local limiter never refused').toBeDefined();
    expectProblem(refused!, 429, 'rate_limited');

    // The warning metric shows it.
    expect(
      await metric(chat, /corral_chat_redis_errors_total\{operation="connection"\} (\d+)/),
    ).toBeGreaterThan(0);

    // Redis comes back: readiness recovers without a restart.
    await link.open();
    await expect
      .poll(async () => (await request(chat.url).get('/readyz')).body.status, { timeout: 10_000 })
      .toBe('ready');
  });

  it('starts with Redis unreachable instead of crashing', async () => {
    const chat = await stack.startChat({ env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}` } });
    const ready = await request(chat.url).get('/readyz').expect(200);
    expect(ready.body.status).toBe('degraded');
    expect(ready.body.checks.redis.status).toBe('down');
    const conversation = await createConversation(chat, stack.user);
    const events = await (
      await openSse(`${chat.url}/api/conversations/${conversation.id}/messages`, stack.user.token, {
        content: 'hi',
      })
    ).rest();
    expect(events.at(-1)?.event).toBe('done');
  });
});

describe('stop across two chat-api processes sharing Redis', () => {
  let a: ChatProcess;
  let b: ChatProcess;

  // Two Node processes with tsx take a while to start on a busy machine: done under the hook timeout.
  beforeAll(async () => {
    const schema = stack.schema();
    const keyPrefix = `corral:test:${schema}:`;
    // One after the other: both migrating the same fresh schema at once would race.
    a = await stack.spawnChatProcess({ schema, keyPrefix });
    b = await stack.spawnChatProcess({ schema, keyPrefix });
  }, 90_000);

  it('stops on process A a reply the user asked process B to stop; the model request is aborted', async () => {
    stack.sim.setOptions({ tokensPerSecond: 20, responseTokens: 1000 });
    const cancelledBefore = stack.sim.stats().cancelled;
    const conversation = await createConversation({ url: a.url } as TestChat, stack.user);
    const stream = await openSse(`${a.url}/api/conversations/${conversation.id}/messages`, stack.user.token, {
      content: 'Recite every prime',
    });
    const start = JSON.parse((await readUntil(stream, 'start')).event.data) as {
      assistantMessage: { id: string };
    };
    await readUntil(stream, 'token');

    const stop = await request(b.url)
      .post(`/api/conversations/${conversation.id}/stop`)
      .set(bearer(stack.user.token))
      .expect(200);
    expect(stop.body.stopping).toEqual([start.assistantMessage.id]);

    const done = JSON.parse((await readUntil(stream, 'done')).event.data) as {
      status: string;
      completionTokens: number;
    };
    expect(done.status).toBe('stopped');
    expect(done.completionTokens).toBeGreaterThan(0);
    expect(done.completionTokens).toBeLessThan(1000);
    await expect.poll(() => stack.sim.stats().cancelled).toBeGreaterThan(cancelledBefore);

    // Either process shows the same saved, stopped reply with its partial text.
    const messages = await request(b.url)
      .get(`/api/conversations/${conversation.id}/messages`)
      .set(bearer(stack.user.token))
      .expect(200);
    const reply = (
      messages.body as { items: Array<{ id: string; status: string; content: string }> }
    ).items.at(-1)!;
    expect(reply).toMatchObject({ id: start.assistantMessage.id, status: 'stopped' });
    expect(reply.content.length).toBeGreaterThan(0);
  });
});
