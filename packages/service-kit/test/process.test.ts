import { get } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type SpawnedService, spawnService } from './process.js';

const started: SpawnedService[] = [];
afterEach(() => {
  for (const service of started.splice(0)) service.child.kill('SIGKILL');
});

function start(env: Record<string, string> = {}): SpawnedService {
  const service = spawnService('test/fixtures/stream-service.ts', env);
  started.push(service);
  return service;
}

/** Opens a streaming GET and resolves once the first chunk arrives; `body` resolves at the end. */
function openStream(url: string): Promise<{ body: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let text = '';
      const body = new Promise<string>((done, fail) => {
        res.on('end', () => done(text));
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('stream cut')));
      });
      res.once('data', () => resolve({ body }));
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
    });
    req.on('error', reject);
  });
}

describe('start-up', () => {
  it('stops with exit code 1 naming a malformed variable', async () => {
    const service = start({ PORT: 'eighty' });
    expect(await service.exit).toBe(1);
    expect(service.output()).toMatch(/invalid configuration for fixture: PORT: expected a whole number/);
    expect(service.output()).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('stops naming a bad shared variable too', async () => {
    const service = start({ LOG_LEVEL: 'chatty', SHUTDOWN_GRACE_MS: '-5' });
    expect(await service.exit).toBe(1);
    expect(service.output()).toContain('LOG_LEVEL');
    expect(service.output()).toContain('SHUTDOWN_GRACE_MS');
  });
});

describe('graceful shutdown on SIGTERM', () => {
  it('lets an open stream finish, refuses new connections, closes pools and exits 0', async () => {
    const service = start({ SHUTDOWN_GRACE_MS: '10000' });
    const url = await service.url;
    const stream = await openStream(`${url}/stream?chunks=6&intervalMs=150`);

    service.child.kill('SIGTERM');
    await expect.poll(() => service.output()).toContain('"message":"shutting down"');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();

    const body = await stream.body;
    const lines = body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(7);
    expect(lines.at(-1)).toEqual({ done: true });
    expect(await service.exit).toBe(0);
    expect(service.output()).toContain('"message":"pool closed"');
    expect(service.output().indexOf('pool closed')).toBeGreaterThan(
      service.output().indexOf('shutting down'),
    );
  });

  it('ends a stream that outlives the grace period cleanly, then exits 0', async () => {
    const service = start({ SHUTDOWN_GRACE_MS: '300' });
    const url = await service.url;
    const stream = await openStream(`${url}/stream?chunks=1000&intervalMs=50`);
    service.child.kill('SIGTERM');
    const body = await stream.body;
    expect(body.trim().split('\n').at(-1)).toMatch(/"error":"shutting down"/);
    expect(await service.exit).toBe(0);
    expect(service.output()).toContain('grace period over');
  });

  it('reports not-ready during the shutdown delay so load balancers stop sending traffic', async () => {
    const service = start({ SHUTDOWN_DELAY_MS: '2000' });
    const url = await service.url;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    service.child.kill('SIGTERM');
    await expect.poll(() => service.output()).toContain('"message":"shutting down"');
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { status: string }).status).toBe('shutting_down');
    expect(await service.exit).toBe(0);
  });
});
