import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '../src/errors.js';
import { createHttpApp } from '../src/http.js';
import { setRequestUser } from '../src/logger.js';
import { parseInput } from '../src/validate.js';
import { kitWithCapturedLogs } from './helpers.js';

const PROBLEM_JSON = /^application\/problem\+json/;

function buildApp(env: Record<string, string> = {}) {
  const { kit, logLines } = kitWithCapturedLogs(env);
  const app = createHttpApp(kit, (app) => {
    app.post('/api/echo', (req, res) => {
      const body = parseInput(
        z.object({ name: z.string().min(1).max(50), count: z.number().int() }),
        req.body,
      );
      res.status(201).json(body);
    });
    app.get('/api/items/:id', (req, res) => {
      setRequestUser('user-42');
      if (req.params.id === 'missing') throw new AppError('not_found', 'No item missing');
      res.json({ id: req.params.id });
    });
    const router = express.Router();
    router.post('/login', async (_req, res) => {
      await Promise.resolve();
      res.json({ ok: true });
    });
    app.use('/api/auth', router);
    app.get('/api/limited', () => {
      throw new AppError('rate_limited', 'Slow down', {
        headers: { 'Retry-After': '7' },
        extensions: { retryAfter: 7 },
      });
    });
    app.get('/api/boom', async () => {
      throw new Error('database password=hunter2 exploded');
    });
    app.post('/api/login', (req, res) => {
      res.json({ ok: true, token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl' });
    });
  });
  return { app, kit, logLines };
}

describe('happy path', () => {
  it('serves liveness on /healthz and /health', async () => {
    const { app } = buildApp();
    for (const path of ['/healthz', '/health']) {
      const res = await request(app).get(path).expect(200);
      expect(res.body).toMatchObject({ status: 'ok', service: 'test-svc', version: '1.2.3' });
    }
  });

  it('echoes a valid X-Request-Id and generates one otherwise', async () => {
    const { app } = buildApp();
    const given = await request(app).get('/api/items/1').set('X-Request-Id', 'req-abc.123').expect(200);
    expect(given.headers['x-request-id']).toBe('req-abc.123');
    const generated = await request(app).get('/api/items/1').expect(200);
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await request(app)
      .get('/api/items/1')
      .set('X-Request-Id', 'bad id\twith spaces')
      .expect(200);
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('exposes Prometheus metrics by route template, not raw path', async () => {
    const { app } = buildApp();
    await request(app).get('/api/items/1').expect(200);
    await request(app).get('/api/items/2').expect(200);
    await request(app).get('/api/items/missing').expect(404);
    const res = await request(app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain(
      'http_request_duration_seconds_count{method="GET",route="/api/items/:id",status="200"} 2',
    );
    expect(res.text).toContain(
      'http_request_duration_seconds_count{method="GET",route="/api/items/:id",status="404"} 1',
    );
    expect(res.text).toMatch(/^http_requests_in_flight 1$/m); // the /metrics request itself
    expect(res.text).toContain('process_cpu_seconds_total');
    expect(res.text).not.toContain('/api/items/1"');
  });

  it('writes no access line below LOG_LEVEL, but still counts the request in metrics', async () => {
    const { kit, logLines } = kitWithCapturedLogs();
    kit.logger.level = 'warn';
    const app = createHttpApp(kit, (app) => app.get('/api/quiet', (_req, res) => res.json({})));
    await request(app).get('/api/quiet').expect(200);
    expect(logLines().filter((l) => l.message === 'request')).toEqual([]);
    const metrics = await request(app).get('/metrics');
    expect(metrics.text).toContain(
      'http_request_duration_seconds_count{method="GET",route="/api/quiet",status="200"} 1',
    );
  });

  it('logs the full path and route template of a request served by a mounted router', async () => {
    const { app, logLines } = buildApp();
    await request(app).post('/api/auth/login?next=x').set('X-Request-Id', 'routed').send({}).expect(200);
    const line = logLines().find((l) => l.message === 'request' && l.requestId === 'routed');
    expect(line).toMatchObject({ path: '/api/auth/login', route: '/api/auth/login', status: 200 });
  });

  it('writes one JSON access-log line with request id, route, status, latency and user id', async () => {
    const { app, logLines } = buildApp();
    await request(app).get('/api/items/7').set('X-Request-Id', 'trace-me').expect(200);
    const line = logLines().find((l) => l.message === 'request' && l.requestId === 'trace-me');
    expect(line).toMatchObject({
      level: 'info',
      service: 'test-svc',
      method: 'GET',
      route: '/api/items/:id',
      path: '/api/items/7',
      status: 200,
      userId: 'user-42',
    });
    expect(typeof line?.durationMs).toBe('number');
    expect(typeof line?.timestamp).toBe('string');
  });
});

describe('error paths answer problem+json', () => {
  it('unknown route → 404', async () => {
    const { app } = buildApp();
    const res = await request(app).get('/api/nope').set('X-Request-Id', 'r-404').expect(404);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toEqual({
      type: 'urn:corral:error:route_not_found',
      title: 'No such route',
      status: 404,
      detail: 'No route for GET /api/nope',
      code: 'route_not_found',
      requestId: 'r-404',
    });
  });

  it('malformed JSON → 400 malformed_json', async () => {
    const { app } = buildApp();
    const res = await request(app)
      .post('/api/echo')
      .set('Content-Type', 'application/json')
      .send('{"name": ')
      .expect(400);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ code: 'malformed_json', status: 400 });
  });

  it('body over BODY_LIMIT → 413 payload_too_large', async () => {
    const { app } = buildApp({ BODY_LIMIT: '1kb' });
    const res = await request(app)
      .post('/api/echo')
      .send({ name: 'x'.repeat(2048), count: 1 })
      .expect(413);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ code: 'payload_too_large', status: 413 });
  });

  it('schema violations → 400 validation_failed naming each field', async () => {
    const { app } = buildApp();
    const res = await request(app).post('/api/echo').send({ name: '', count: 'three' }).expect(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['body.count', 'body.name']);
  });

  it('typed errors keep their status, headers and extensions', async () => {
    const { app } = buildApp();
    const res = await request(app).get('/api/limited').expect(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.body).toMatchObject({ code: 'rate_limited', detail: 'Slow down', retryAfter: 7 });
    const missing = await request(app).get('/api/items/missing').expect(404);
    expect(missing.body).toMatchObject({ code: 'not_found', detail: 'No item missing' });
  });

  it('an unexpected error → 500 without stack or message, logged with the stack', async () => {
    const { app, logLines } = buildApp();
    const res = await request(app).get('/api/boom').expect(500);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ code: 'internal', detail: 'An unexpected error occurred.' });
    expect(res.text).not.toMatch(/exploded|at |\.ts:/);
    const logged = logLines().find((l) => l.message === 'unhandled error');
    expect(JSON.stringify(logged)).toContain('exploded');
    expect(JSON.stringify(logged)).toContain('stack');
  });
});

describe('errors in another wire format', () => {
  it('lets a service answer its own shape, including body-parser errors raised before its routes', async () => {
    const { kit } = kitWithCapturedLogs({ BODY_LIMIT: '1kb' });
    const app = createHttpApp(
      kit,
      (app) => {
        app.post('/v1/thing', (_req, res) => res.json({ ok: true }));
      },
      {
        renderError: (error, req, res) => {
          if (!req.path.startsWith('/v1/')) return false;
          res.status(error.status).json({ error: { message: error.message, type: error.code } });
          return true;
        },
      },
    );
    const malformed = await request(app)
      .post('/v1/thing')
      .set('Content-Type', 'application/json')
      .send('{"a":');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({
      error: { message: 'The request body is not valid JSON.', type: 'malformed_json' },
    });
    const tooLarge = await request(app)
      .post('/v1/thing')
      .send({ big: 'x'.repeat(2048) });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error.type).toBe('payload_too_large');
    const elsewhere = await request(app).get('/api/nope').expect(404);
    expect(elsewhere.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('answers 503 with Retry-After when a dependency is unreachable, not 500', async () => {
    const { kit, logLines } = kitWithCapturedLogs();
    const app = createHttpApp(kit, (app) => {
      app.get('/api/db', () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      });
      app.get('/api/pool', () => {
        throw new Error('outer', { cause: new Error('timeout exceeded when trying to connect') });
      });
    });
    for (const [path, retryAfter] of [
      ['/api/db', '5'],
      ['/api/pool', '1'],
    ] as const) {
      const res = await request(app).get(path).expect(503);
      expect(res.headers['retry-after']).toBe(retryAfter);
      expect(res.body).toMatchObject({ code: 'service_unavailable', retryAfter: Number(retryAfter) });
    }
    expect(logLines().some((l) => l.message === 'unhandled error')).toBe(false);
    expect(logLines().filter((l) => l.message === 'dependency unavailable')).toHaveLength(2);
  });
});

describe('security', () => {
  it('never logs passwords, tokens, API keys or cookies', async () => {
    const { app, logLines, kit } = buildApp();
    await request(app)
      .post('/api/login')
      .set('Authorization', 'Bearer sk-corral-abcdef0123456789')
      .set('Cookie', 'refresh=super-secret-cookie')
      .send({ email: 'a@b.c', password: 'hunter2-password' })
      .expect(200);
    await request(app).get('/api/boom').expect(500);
    kit.logger.info('login attempt', {
      password: 'hunter2-password',
      headers: { authorization: 'Bearer abc.def.ghi' },
      note: 'used key sk-corral-zzzzzzzzzzzz',
    });
    const all = JSON.stringify(logLines());
    expect(all).not.toContain('hunter2');
    expect(all).not.toContain('sk-corral-abcdef');
    expect(all).not.toContain('sk-corral-zzzz');
    expect(all).not.toContain('super-secret-cookie');
    expect(all).not.toContain('abc.def.ghi');
    expect(all).toContain('[REDACTED]');
  });

  it('keeps CORS closed by default and opens it only for listed origins', async () => {
    const closed = buildApp().app;
    const res = await request(closed).get('/api/items/1').set('Origin', 'https://evil.example').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();

    const { app } = buildApp({ CORS_ALLOW_ORIGIN: 'https://chat.example.com' });
    const allowed = await request(app)
      .get('/api/items/1')
      .set('Origin', 'https://chat.example.com')
      .expect(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://chat.example.com');
    const denied = await request(app).get('/api/items/1').set('Origin', 'https://evil.example').expect(200);
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('does not advertise the framework and forbids MIME sniffing', async () => {
    const { app } = buildApp();
    const res = await request(app).get('/api/items/1');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});
