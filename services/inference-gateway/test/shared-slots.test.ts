import { randomUUID } from 'node:crypto';
import type { OllamaSim } from '@corral/ollama-sim';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisSlots } from '../src/domain/shared-slots.js';
import { chatBody, postJson, usePoolPerTest, waitUntil } from './helpers.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MODEL = 'llama3.2:latest';
const quiet = { warn: () => undefined };
const redis = new Redis(REDIS_URL);
afterAll(() => redis.quit());

const prefix = () => `corral:gateway:test:${randomUUID()}:`;

describe('RedisSlots (real Redis)', () => {
  it('gives at most `limit` slots of a (backend, model) across replicas, and frees them on release', async () => {
    const keyPrefix = prefix();
    const a = new RedisSlots(redis, { keyPrefix, ttlMs: 30_000 }, quiet);
    const b = new RedisSlots(redis, { keyPrefix, ttlMs: 30_000 }, quiet);
    const first = await a.acquire('b0', MODEL, 2);
    const second = await b.acquire('b0', MODEL, 2);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(await a.acquire('b0', MODEL, 2)).toBeUndefined();
    expect(await b.acquire('b0', 'other:latest', 2)).toBeDefined();
    expect(await b.acquire('b1', MODEL, 2)).toBeDefined();
    a.release('b0', MODEL, first as string);
    await waitUntil(async () => (await redis.zcard(`${keyPrefix}slots:b0:${MODEL}`)) === 1, 'the release');
    expect(await a.acquire('b0', MODEL, 2)).toBeDefined();
    a.close();
    b.close();
  });

  it('frees the slots of a replica that stopped renewing them (crashed) once they expire', async () => {
    const keyPrefix = prefix();
    const crashed = new RedisSlots(redis, { keyPrefix, ttlMs: 300 }, quiet);
    expect(await crashed.acquire('b0', MODEL, 1)).toBeDefined();
    crashed.close(); // no more renewals, no release: as if the process died
    const alive = new RedisSlots(redis, { keyPrefix, ttlMs: 300 }, quiet);
    expect(await alive.acquire('b0', MODEL, 1)).toBeUndefined();
    await waitUntil(async () => (await alive.acquire('b0', MODEL, 1)) !== undefined, 'the slot to expire');
    alive.close();
  });

  it('keeps a held slot past its ttl while it is renewed', async () => {
    const keyPrefix = prefix();
    const holder = new RedisSlots(redis, { keyPrefix, ttlMs: 150 }, quiet);
    const other = new RedisSlots(redis, { keyPrefix, ttlMs: 150 }, quiet);
    expect(await holder.acquire('b0', MODEL, 1)).toBeDefined();
    // Several ttls pass (each renewal moves the expiry); the slot stays taken.
    const key = `${keyPrefix}slots:b0:${MODEL}`;
    const firstExpiry = Number((await redis.zrange(key, 0, 0, 'WITHSCORES'))[1]);
    await waitUntil(
      async () => Number((await redis.zrange(key, 0, 0, 'WITHSCORES'))[1]) > firstExpiry + 300,
      'renewals past two ttls',
    );
    expect(await other.acquire('b0', MODEL, 1)).toBeUndefined();
    holder.close();
    other.close();
  });
});

const pool = usePoolPerTest();

/** Two gateway replicas in front of the same two GPU-profile sims (4 slots each), 16 streams at once. */
async function twoReplicas(env: Record<string, string>): Promise<OllamaSim[]> {
  const sims = await pool.startSims(2, {
    profile: 'gpu-8b',
    loadMs: 50,
    tokensPerSecond: 100,
    models: ['llama3.2'],
  });
  const settings = { BACKEND_MAX_PARALLEL: '2', ROUTING_STRATEGY: 'least-outstanding', ...env };
  const replicas = [await pool.startGateway(sims, settings), await pool.startGateway(sims, settings)];
  const answers = await Promise.all(
    Array.from({ length: 16 }, (_, i) =>
      postJson(`${replicas[i % 2]?.url}/api/chat`, chatBody(`q${i}`, { stream: false })),
    ),
  );
  expect(answers.map((res) => res.status)).toEqual(Array(16).fill(200));
  return sims;
}

const peak = (sim: OllamaSim) => sim.stats().models[MODEL]?.peakRunning ?? 0;

describe('two gateway replicas sharing slots in Redis', () => {
  it('never run more than BACKEND_MAX_PARALLEL of a model on one server together', async () => {
    const sims = await twoReplicas({ REDIS_URL, REDIS_KEY_PREFIX: prefix() });
    expect(sims.map(peak)).toEqual([2, 2]);
  });

  it('without Redis each replica counts alone, and together they exceed it (what the above prevents)', async () => {
    const sims = await twoReplicas({});
    expect(Math.max(...sims.map(peak))).toBeGreaterThan(2);
  });
});
