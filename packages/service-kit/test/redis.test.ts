import { randomBytes } from 'node:crypto';
import { freePort, TcpRelay, TEST_REDIS_URL as REDIS_URL } from '@corral/test-support';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../src/http.js';
import { connectRedis } from '../src/redis.js';
import { kitWithCapturedLogs } from './helpers.js';

const clients: Redis[] = [];

afterAll(() => {
  for (const client of clients) client.disconnect();
});

/** A relay to the real Redis on a port nothing listens on yet: Redis away until `open()`. */
async function closedLink(): Promise<TcpRelay> {
  return new TcpRelay(REDIS_URL, await freePort());
}

describe('connectRedis against the real Redis', () => {
  it('connects, reports ready, and quits with the kit’s shutdown hooks', async () => {
    const { kit, logLines } = kitWithCapturedLogs();
    const redis = await connectRedis(kit, REDIS_URL, { critical: true });
    clients.push(redis);
    const key = `corral:test:kit:${randomBytes(4).toString('hex')}`;
    await redis.set(key, 'value', 'EX', 60);
    expect(await redis.get(key)).toBe('value');

    const app = createHttpApp(kit, () => {});
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body.checks).toEqual({ redis: expect.objectContaining({ status: 'up', critical: true }) });

    await kit.lifecycle.runShutdownHooks(kit.logger);
    await expect.poll(() => redis.status).toBe('end');
    expect(logLines().filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('critical: takes the service out of rotation while Redis is away', async () => {
    const link = await closedLink();
    const { kit, logLines } = kitWithCapturedLogs();
    const redis = await connectRedis(kit, link.url, { critical: true });
    clients.push(redis);
    const app = createHttpApp(kit, () => {});
    const down = await request(app).get('/readyz').expect(503);
    expect(down.body).toMatchObject({
      status: 'not_ready',
      checks: { redis: { status: 'down', critical: true } },
    });
    expect(logLines().some((line) => line.message === 'redis error')).toBe(true);

    // Not connected: shutdown stops the reconnecting at once instead of waiting on a QUIT reply.
    await kit.lifecycle.runShutdownHooks(kit.logger, 1000);
    expect(logLines().filter((line) => line.message === 'shutdown hook failed')).toEqual([]);
  });

  it('non-critical and failFast: starts without Redis, degrades, fails commands at once, recovers', async () => {
    const link = await closedLink();
    const { kit, logLines } = kitWithCapturedLogs();
    const errors: unknown[] = [];
    const redis = await connectRedis(kit, link.url, {
      critical: false,
      failFast: true,
      connectWaitMs: 10_000,
      warning: 'redis unavailable: counting in this process',
      warnEveryMs: 60_000,
      onError: (error) => errors.push(error),
    });
    clients.push(redis);
    // Start-up went on at the first error, long before connectWaitMs.
    expect(errors.length).toBeGreaterThan(0);
    const app = createHttpApp(kit, () => {});

    const degraded = await request(app).get('/readyz').expect(200);
    expect(degraded.body).toMatchObject({
      status: 'degraded',
      checks: { redis: { status: 'down', critical: false, error: expect.stringMatching(/^redis is \w+$/) } },
    });
    await expect(redis.get('anything')).rejects.toThrow(/enableOfflineQueue/);

    // Every reconnect attempt fails and is counted, but warned about once a minute at most.
    await expect.poll(() => errors.length, { timeout: 5000 }).toBeGreaterThan(2);
    const warnings = logLines().filter(
      (line) => line.message === 'redis unavailable: counting in this process',
    );
    expect(warnings).toHaveLength(1);

    await link.open();
    await expect.poll(() => redis.status, { timeout: 10_000 }).toBe('ready');
    expect(logLines().some((line) => line.message === 'redis is reachable again')).toBe(true);
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body.status).toBe('ready');

    await kit.lifecycle.runShutdownHooks(kit.logger);
    await expect.poll(() => redis.status).toBe('end');
    await link.close();
  });

  it('waits up to connectWaitMs for the first connection, so Redis is ready when start-up ends', async () => {
    const { kit } = kitWithCapturedLogs();
    const redis = await connectRedis(kit, REDIS_URL, {
      critical: false,
      failFast: true,
      connectWaitMs: 5000,
    });
    clients.push(redis);
    expect(redis.status).toBe('ready');
    expect(await redis.ping()).toBe('PONG');
    await kit.lifecycle.runShutdownHooks(kit.logger);
  });
});
