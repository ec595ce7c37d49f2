import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { OllamaSim } from '@corral/ollama-sim';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChatProcess,
  REDIS_URL,
  bearer,
  createConversation,
  dropSchema,
  expectProblem,
  openSse,
  readUntil,
  signUp,
  spawnChatProcess,
  startChat,
  startSim,
  type TestChat,
  type TestUser,
  uniqueSchema,
} from './helpers.js';

let sim: OllamaSim;
let user: TestUser;
const schemas: string[] = [];
const chats: TestChat[] = [];
const processes: ChatProcess[] = [];

beforeAll(async () => {
  sim = await startSim();
  user = await signUp();
});

afterEach(() => {
  sim.setFailure({ mode: 'none' });
  sim.setOptions({ tokensPerSecond: 0, responseTokens: 24 });
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  for (const chat of chats) await chat.close();
  await sim?.close();
  for (const schema of schemas) await dropSchema(schema);
});

/**
 * A TCP pass-through to the real Redis that the test can cut (every connection dropped, the
 * port closed) and restore on the same port: Redis "stopping" and "coming back" for one app only.
 */
class RedisLink {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async open(): Promise<void> {
    const target = new URL(REDIS_URL);
    const server = createServer((client) => {
      const upstream = connect(Number(target.port || 6379), target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
}

async function metric(chat: TestChat, pattern: RegExp): Promise<number> {
  const text = (await request(chat.url).get('/metrics').expect(200)).text;
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

describe('Redis stops while chat-api runs', () => {
  it('keeps serving with limits in this process, reports Redis down, stops locally, and recovers', async () => {
    const link = new RedisLink();
    await link.open();
    const schema = uniqueSchema();
    schemas.push(schema);
    const chat = await startChat(sim, {
      schema,
      env: { REDIS_URL: link.url, RATE_LIMIT_PER_MINUTE: '8', MAX_CONCURRENT_STREAMS: '5' },
    });
    chats.push(chat);
    await request(chat.url).get('/readyz').expect(200);
    const conversation = await createConversation(chat, user);

    await link.cut();
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
      await openSse(`${chat.url}/api/conversations/${conversation.id}/messages`, user.token, {
        content: 'Is anyone there?',
      })
    ).rest();
    expect(events.at(-1)?.event).toBe('done');
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ status: 'complete' });

    // Stop still works within this replica.
    sim.setFailure({ mode: 'hang', paths: ['/api/chat'] });
    const stream = await openSse(`${chat.url}/api/conversations/${conversation.id}/messages`, user.token, {
      content: 'Wait for it',
    });
    await readUntil(stream, 'start');
    await request(chat.url)
      .post(`/api/conversations/${conversation.id}/stop`)
      .set(bearer(user.token))
      .expect(200);
    expect(JSON.parse((await readUntil(stream, 'done')).event.data)).toMatchObject({ status: 'stopped' });
    sim.setFailure({ mode: 'none' });

    // Rate limiting degrades to this process's count, still enforced (8 a minute, counted afresh here).
    let refused: request.Response | undefined;
    for (let i = 0; i < 10 && !refused; i += 1) {
      const res = await request(chat.url).get('/api/conversations').set(bearer(user.token));
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
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const schema = uniqueSchema();
    schemas.push(schema);
    const chat = await startChat(sim, { schema, env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    chats.push(chat);
    const ready = await request(chat.url).get('/readyz').expect(200);
    expect(ready.body.status).toBe('degraded');
    expect(ready.body.checks.redis.status).toBe('down');
    const conversation = await createConversation(chat, user);
    const events = await (
      await openSse(`${chat.url}/api/conversations/${conversation.id}/messages`, user.token, {
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
    const schema = uniqueSchema();
    schemas.push(schema);
    const keyPrefix = `corral:test:${schema}:`;
    // One after the other: both migrating the same fresh schema at once would race.
    a = await spawnChatProcess(sim, { schema, keyPrefix });
    processes.push(a);
    b = await spawnChatProcess(sim, { schema, keyPrefix });
    processes.push(b);
  }, 90_000);

  it('stops on process A a reply the user asked process B to stop; the model request is aborted', async () => {
    sim.setOptions({ tokensPerSecond: 20, responseTokens: 1000 });
    const cancelledBefore = sim.stats().cancelled;
    const conversation = await createConversation({ url: a.url } as TestChat, user);
    const stream = await openSse(`${a.url}/api/conversations/${conversation.id}/messages`, user.token, {
      content: 'Recite every prime',
    });
    const start = JSON.parse((await readUntil(stream, 'start')).event.data) as {
      assistantMessage: { id: string };
    };
    await readUntil(stream, 'token');

    const stop = await request(b.url)
      .post(`/api/conversations/${conversation.id}/stop`)
      .set(bearer(user.token))
      .expect(200);
    expect(stop.body.stopping).toEqual([start.assistantMessage.id]);

    const done = JSON.parse((await readUntil(stream, 'done')).event.data) as {
      status: string;
      completionTokens: number;
    };
    expect(done.status).toBe('stopped');
    expect(done.completionTokens).toBeGreaterThan(0);
    expect(done.completionTokens).toBeLessThan(1000);
    await expect.poll(() => sim.stats().cancelled).toBeGreaterThan(cancelledBefore);

    // Either process shows the same saved, stopped reply with its partial text.
    const messages = await request(b.url)
      .get(`/api/conversations/${conversation.id}/messages`)
      .set(bearer(user.token))
      .expect(200);
    const reply = (
      messages.body as { items: Array<{ id: string; status: string; content: string }> }
    ).items.at(-1)!;
    expect(reply).toMatchObject({ id: start.assistantMessage.id, status: 'stopped' });
    expect(reply.content.length).toBeGreaterThan(0);
  });
});
