import { expectedChatReply } from '@corral/ollama-sim';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type TestGateway,
  backendState,
  backendStates,
  chatBody,
  firstChunk,
  postJson,
  readRest,
  startGateway,
} from './helpers.js';
import { type SimProcess, spawnSim } from './sim-process.js';

/** Every backend a real process: killing one really closes its sockets. */
const SLOW = ['--tokens-per-second', '20', '--response-tokens', '24', '--ttft-ms', '0'];

const replyText = (reply: string) =>
  reply
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { message?: { content: string }; done: boolean; error?: string });

describe('three ollama-sim processes: a backend killed under load', () => {
  let sims: SimProcess[] = [];
  let gateway: TestGateway;
  const aborts: AbortController[] = [];

  beforeAll(async () => {
    sims = await Promise.all([
      spawnSim([...SLOW, '--models', 'llama3.2']),
      spawnSim([...SLOW, '--models', 'llama3.2']),
      spawnSim([...SLOW, '--models', 'llama3.2,qwen2.5']),
    ]);
    gateway = await startGateway(
      sims.map((sim) => sim.url),
      {
        BACKEND_MAX_PARALLEL: '2',
        QUEUE_MAX: '16',
        QUEUE_TIMEOUT_MS: '20000',
        ROUTING_STRATEGY: 'round-robin',
      },
    );
  });

  afterAll(async () => {
    for (const controller of aborts) controller.abort();
    await gateway?.close();
    await Promise.all(sims.map((sim) => sim.close()));
  });

  it('an unknown model is a 404 listing the models the processes hold', async () => {
    const res = await postJson(`${gateway.url}/api/chat`, chatBody('hi', { model: 'mistral' }));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({
      code: 'model_not_found',
      error: 'model "mistral" not found, try pulling it first',
      availableModels: ['llama3.2:latest', 'qwen2.5:latest'],
    });
  });

  it(
    'SIGKILL: its streams end with an error line, waiting and new requests go elsewhere, it is ejected, and it returns when restarted',
    { timeout: 40_000 },
    async () => {
      const gw = gateway;
      const victim = sims[1] as SimProcess;
      // Six streams fill every slot (2 per backend); three more wait in the gateway's queue.
      const streams = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const controller = new AbortController();
          aborts.push(controller);
          const body = chatBody(`story ${i}`);
          const res = await postJson(`${gw.url}/api/chat`, body, controller.signal);
          const { text, reader } = await firstChunk(res);
          return { body, backend: res.headers.get('x-corral-backend'), text, reader };
        }),
      );
      expect(streams.filter((s) => s.backend === victim.url)).toHaveLength(2);
      const waiting = Array.from({ length: 3 }, (_, i) =>
        postJson(`${gw.url}/api/chat`, chatBody(`not started ${i}`, { stream: false })),
      );
      await expect
        .poll(async () => (await backendStates(gw)).reduce((n, b) => n + b.queued, 0))
        .toBeGreaterThan(0);

      await victim.kill();

      for (const stream of streams) {
        const lines = replyText(stream.text + (await readRest(stream.reader)));
        const expected = expectedChatReply(stream.body);
        const content = lines.filter((l) => !l.done).map((l) => l.message?.content ?? '');
        const last = lines.at(-1);
        if (stream.backend === victim.url) {
          // What had arrived is intact, then one closing line the caller can save the partial reply by.
          expect(expected.tokens.slice(0, content.length)).toEqual(content);
          expect(content.length).toBeLessThan(expected.tokens.length);
          expect(last).toMatchObject({ done: true, error: expect.stringContaining('ended early') });
        } else {
          expect(content.join('')).toBe(expected.text);
          expect(last?.error).toBeUndefined();
        }
      }
      expect(await backendState(gw, victim.url)).toBe('ejected');

      // Requests that had not started, and new ones, are served by the two survivors.
      const after = Array.from({ length: 4 }, (_, i) =>
        postJson(`${gw.url}/api/chat`, chatBody(`after the kill ${i}`, { stream: false })),
      );
      for (const res of await Promise.all([...waiting, ...after])) {
        expect(res.status).toBe(200);
        expect(res.headers.get('x-corral-backend')).not.toBe(victim.url);
        expect(((await res.json()) as { done: boolean }).done).toBe(true);
      }
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).toContain(`corral_gateway_ejections_total{backend="${victim.url}"} 1`);
      expect(metrics).toContain(`corral_gateway_backend_healthy{backend="${victim.url}"} 0`);

      // Restarted on the same port: the next passing check brings it back, and it gets traffic.
      const reborn = await spawnSim(
        [...SLOW, '--tokens-per-second', '0', '--models', 'llama3.2'],
        victim.port,
      );
      sims[1] = reborn;
      await expect.poll(() => backendState(gw, victim.url), { timeout: 15_000 }).toBe('healthy');
      const served = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const res = await postJson(`${gw.url}/api/chat`, chatBody(`back ${i}`, { stream: false }));
          expect(res.status).toBe(200);
          await res.arrayBuffer();
          return res.headers.get('x-corral-backend');
        }),
      );
      expect(served).toContain(victim.url);
      expect((await reborn.stats()).requests['POST /api/chat']).toBeGreaterThanOrEqual(1);
    },
  );
});

describe('two ollama-sim processes: a full pool', () => {
  let sims: SimProcess[] = [];
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await Promise.all(sims.map((sim) => sim.close()));
  });

  it(
    'running and queued up to QUEUE_MAX, then 503 + Retry-After at once; nothing hangs, and the queue drains',
    { timeout: 30_000 },
    async () => {
      sims = await Promise.all([
        spawnSim([...SLOW, '--models', 'llama3.2']),
        spawnSim([...SLOW, '--models', 'llama3.2']),
      ]);
      gateway = await startGateway(
        sims.map((sim) => sim.url),
        {
          BACKEND_MAX_PARALLEL: '1',
          QUEUE_MAX: '2',
          QUEUE_TIMEOUT_MS: '20000',
          ROUTING_STRATEGY: 'round-robin',
        },
      );
      const gw = gateway;
      const running = await Promise.all(
        [0, 1].map(async (i) => {
          const controller = new AbortController();
          const res = await postJson(`${gw.url}/api/chat`, chatBody(`running ${i}`), controller.signal);
          await firstChunk(res);
          return controller;
        }),
      );
      const queued = [0, 1].map((i) =>
        postJson(`${gw.url}/api/chat`, chatBody(`queued ${i}`, { stream: false })),
      );
      await expect.poll(async () => (await backendStates(gw)).reduce((n, b) => n + b.queued, 0)).toBe(4);

      const shed = await Promise.all(
        Array.from({ length: 6 }, () =>
          postJson(`${gw.url}/api/chat`, chatBody('one too many', { stream: false })),
        ),
      );
      for (const res of shed) {
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('20');
        expect(await res.json()).toMatchObject({ code: 'overloaded', retryAfter: 20 });
      }
      // The shed requests never reached a backend.
      const chats = async () =>
        (await Promise.all(sims.map((s) => s.stats()))).map((s) => s.requests['POST /api/chat'] ?? 0);
      expect(await chats()).toEqual([1, 1]);

      // Free the slots (the backends see the cancellations); the queued requests then run, fast.
      await Promise.all(sims.map((sim) => sim.configure({ tokensPerSecond: 0 })));
      for (const controller of running) controller.abort();
      for (const res of await Promise.all(queued)) {
        expect(res.status).toBe(200);
        expect(((await res.json()) as { done: boolean }).done).toBe(true);
      }
      await expect
        .poll(async () =>
          (await Promise.all(sims.map((s) => s.stats()))).reduce((n, s) => n + s.cancelled, 0),
        )
        .toBe(2);
      const states = await backendStates(gw);
      expect(states.map((b) => [b.state, b.inFlight, b.queued])).toEqual([
        ['healthy', 0, 0],
        ['healthy', 0, 0],
      ]);
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).toContain('corral_gateway_requests_total{route="/api/chat",outcome="overloaded"} 6');
      expect(metrics).toMatch(/^corral_gateway_queue_depth 0$/m);
    },
  );
});
