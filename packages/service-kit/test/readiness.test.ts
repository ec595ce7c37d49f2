import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createHttpApp } from '../src/http.js';
import { kitWithCapturedLogs } from './helpers.js';

describe('readiness over real HTTP', () => {
  it('flips to 503 naming the failing check, and back to 200 when it recovers', async () => {
    const { kit } = kitWithCapturedLogs();
    let databaseUp = true;
    kit.readiness.register('postgres', async () => {
      if (!databaseUp) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    });
    kit.readiness.register('redis', async () => 'PONG');
    const app = createHttpApp(kit, () => {});

    const ok = await request(app).get('/readyz').expect(200);
    expect(ok.body).toMatchObject({
      status: 'ready',
      checks: { postgres: { status: 'up' }, redis: { status: 'up' } },
    });

    databaseUp = false;
    for (const path of ['/readyz', '/ready']) {
      const down = await request(app).get(path).expect(503);
      expect(down.body).toMatchObject({
        status: 'not_ready',
        checks: {
          postgres: { status: 'down', error: 'connect ECONNREFUSED 127.0.0.1:5432' },
          redis: { status: 'up' },
        },
      });
    }
    // Liveness does not depend on dependencies: Kubernetes must not restart a pod because Postgres is down.
    await request(app).get('/healthz').expect(200);

    databaseUp = true;
    await request(app).get('/readyz').expect(200);
  });

  it('fails a check that hangs, after its timeout, and aborts it', async () => {
    const { kit } = kitWithCapturedLogs();
    let aborted = false;
    kit.readiness.register(
      'upstream',
      (signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve(undefined);
          });
        }),
      { timeoutMs: 50 },
    );
    const app = createHttpApp(kit, () => {});
    const res = await request(app).get('/readyz').expect(503);
    expect(res.body.checks.upstream).toMatchObject({ status: 'down', error: 'timed out after 50 ms' });
    expect(aborted).toBe(true);
  });

  it('reports a non-critical dependency as degraded but keeps serving (200)', async () => {
    const { kit } = kitWithCapturedLogs();
    let redisUp = false;
    kit.readiness.register('postgres', async () => 'ok');
    kit.readiness.register(
      'redis',
      async () => {
        if (!redisUp) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      },
      { critical: false },
    );
    const app = createHttpApp(kit, () => {});
    const degraded = await request(app).get('/readyz').expect(200);
    expect(degraded.body).toMatchObject({
      status: 'degraded',
      checks: { postgres: { status: 'up', critical: true }, redis: { status: 'down', critical: false } },
    });
    redisUp = true;
    expect((await request(app).get('/readyz').expect(200)).body.status).toBe('ready');
  });

  it('reports shutting_down once draining has begun', async () => {
    const { kit } = kitWithCapturedLogs();
    const app = createHttpApp(kit, () => {});
    kit.readiness.markShuttingDown();
    const res = await request(app).get('/readyz').expect(503);
    expect(res.body.status).toBe('shutting_down');
  });
});
