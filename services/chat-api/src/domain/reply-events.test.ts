import { randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { PassThrough } from 'node:stream';
import { createLogger, createMetrics } from '@corral/service-kit';
import { TEST_REDIS_URL } from '@corral/test-support';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createChatMetrics } from '../metrics.js';
import { Generation } from './generations.js';
import { ReplyEvents } from './reply-events.js';

const redis = new Redis(TEST_REDIS_URL);
afterAll(() => redis.quit());

function generation(): Generation {
  return new Generation({
    messageId: randomUUID(),
    conversationId: randomUUID(),
    userId: randomUUID(),
    apiKeyId: null,
    model: 'm',
    messages: [],
    maxTokens: null,
    slot: { refresh() {}, release() {} },
  });
}

/** Emits `tokens` tokens and the end in one go, as a fast model's socket read does. */
function run(g: Generation, tokens: number): void {
  for (let i = 0; i < tokens; i++) {
    g.content += `t${i} `;
    g.emitted += 1;
    g.emit('token', `t${i} `);
  }
  g.settle({
    messageId: g.request.messageId,
    status: 'complete',
    content: g.content,
    reasoning: null,
    promptTokens: 1,
    completionTokens: tokens,
    durationMs: 1,
    tokensPerSecond: null,
    error: null,
    finalSave: 'saved',
  });
}

describe('ReplyEvents in Redis', () => {
  it('sends the events of replies emitted together in one pipeline, in order, each reply’s stream complete', async () => {
    const prefix = `test:${randomUUID()}:`;
    const events = new ReplyEvents(
      redis,
      prefix,
      { ttlSeconds: 60, maxEvents: 1000 },
      createLogger({ service: 'test', level: 'error', stream: new PassThrough().resume() }),
      createChatMetrics(createMetrics().registry),
    );
    const pipelines = vi.spyOn(redis, 'pipeline');
    const replies = [generation(), generation(), generation()];
    for (const g of replies) events.record(g);
    for (const g of replies) run(g, 20);

    // Each reply's stream ends with its final event once the batch has landed.
    for (const g of replies) {
      const key = `${prefix}reply:${g.request.messageId}`;
      await vi.waitFor(async () => expect(await redis.xlen(key)).toBe(21), { timeout: 5000 });
      const entries = await redis.xrange(key, '-', '+');
      expect(entries.map(([id]) => id)).toEqual(Array.from({ length: 21 }, (_, i) => `0-${i + 1}`));
      expect(entries[20]![1]).toEqual(['e', 'done', 'd', expect.stringContaining('"status":"complete"')]);
      expect(await redis.pttl(key)).toBeGreaterThan(0);
    }
    // 63 events (and 3 expiries): one round trip, not one per event.
    expect(pipelines).toHaveBeenCalledTimes(1);
    pipelines.mockRestore();
    events.close();
    await redis.del(...replies.map((g) => `${prefix}reply:${g.request.messageId}`));
  });
});

describe('ReplyEvents in this process', () => {
  it('a reader following a reply token by token keeps at most one abort listener on its signal', async () => {
    const events = new ReplyEvents(
      undefined,
      'unused:',
      { ttlSeconds: 60, maxEvents: 1000 },
      createLogger({ service: 'test', level: 'error', stream: new PassThrough().resume() }),
      createChatMetrics(createMetrics().registry),
    );
    const g = generation();
    events.record(g);
    const controller = new AbortController();
    const reader = await events.open(g.request.messageId, 0, controller.signal);
    if (reader === undefined || typeof reader !== 'object') throw new Error('no local reader');
    const listeners: number[] = [];
    const read = (async () => {
      let count = 0;
      for await (const entry of reader) {
        count += 1;
        listeners.push(getEventListeners(controller.signal, 'abort').length);
        if (entry.event !== 'token') break;
      }
      return count;
    })();
    // One token per turn, so the reader waits for each of them.
    for (let i = 0; i < 200; i++) {
      g.content += `t${i} `;
      g.emitted += 1;
      g.emit('token', `t${i} `);
      await new Promise((resolve) => setImmediate(resolve));
    }
    run(g, 0);
    expect(await read).toBe(201);
    expect(Math.max(...listeners)).toBeLessThanOrEqual(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    events.close();
  });
});
