import { AppError } from '@corral/service-kit';
import { describe, expect, it } from 'vitest';
import type { Backend } from './backend.js';
import {
  type ErrorResponse,
  Failover,
  classifyError,
  failureToApp,
  outcomeOf,
  routingErrorToApp,
} from './failover.js';
import { HealthMonitor } from './health.js';
import { ModelInventory } from './inventory.js';
import { BackendPool } from './pool.js';
import { Router, RoutingError } from './router.js';
import { UpstreamClient } from './upstream.js';

const quiet = { info: () => undefined, warn: () => undefined };

/** A real pool, router and health monitor on a clock the test moves; backends are healthy and hold `llama3.2`. */
function pool(backendCount: number, { ejectAfterFailures = 1 } = {}) {
  const clock = { now: 1_000_000 };
  const now = () => clock.now;
  const backends = new BackendPool(30_000);
  const router = new Router(
    backends,
    { strategy: 'round-robin', maxParallel: 4, queueMax: 0, queueTimeoutMs: 5_000, busyHoldMs: 1_000 },
    {},
    now,
  );
  // The monitor never checks in these tests (not started): only its passive ejection is used.
  const upstream = new UpstreamClient({ connectMs: 100, firstByteMs: 100, idleMs: 100 });
  const inventory = new ModelInventory(backends, upstream, { pollMs: 60_000, timeoutMs: 100 }, quiet);
  const health = new HealthMonitor(
    backends,
    upstream,
    inventory,
    {
      intervalMs: 60_000,
      timeoutMs: 100,
      ejectAfterFailures,
      ejectWindowMs: 60_000,
      ejectBaseMs: 5_000,
      ejectMaxMs: 60_000,
    },
    quiet,
    () => undefined,
    now,
  );
  const list: Backend[] = [];
  for (let i = 0; i < backendCount; i++) {
    const backend = backends.upsert({ id: `b${i}`, url: `http://10.0.0.${i}:11434` });
    backend.state = 'healthy';
    backend.models.set('llama3.2', { name: 'llama3.2' });
    list.push(backend);
  }
  return { clock, router, health, backends: list };
}

function failoverOn(setup: ReturnType<typeof pool>, retries: { count: number } = { count: 0 }) {
  return new Failover(setup.router, setup.health, 'llama3.2', {
    limited: true,
    signal: new AbortController().signal,
    onRetry: () => (retries.count += 1),
  });
}

const answer = (statusCode: number, text = 'boom'): ErrorResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(text),
});

const connectionRefused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

describe('Failover: a failure before the first byte', () => {
  it('goes to another backend once, never back to the one that failed, and ejects the failed one', async () => {
    const setup = pool(2);
    const retries = { count: 0 };
    const failover = failoverOn(setup, retries);
    const first = await failover.acquire(0);
    first.release();
    const failure = failover.connectFailed(first.backend, connectionRefused);
    expect(failure.kind).toBe('connect');
    expect(first.backend.state).toBe('ejected');
    expect(failover.shouldRetry(0, failure)).toBe(true);
    expect(retries.count).toBe(1);
    const second = await failover.acquire(1);
    expect(second.backend).not.toBe(first.backend);
    second.release();
    // A second failure is the client's: there is no third attempt.
    expect(failover.shouldRetry(1, failover.connectFailed(second.backend, connectionRefused))).toBe(false);
    expect(retries.count).toBe(1);
  });

  it('passes the failure on when no other backend holds the model', async () => {
    const setup = pool(1, { ejectAfterFailures: 3 });
    const failover = failoverOn(setup);
    const lease = await failover.acquire(0);
    lease.release();
    const failure = failover.answeredError(lease.backend, answer(500, 'CUDA out of memory'));
    expect(failure).toMatchObject({ kind: 'server_error', reason: 'answered 500: CUDA out of memory' });
    // Below EJECT_AFTER_FAILURES it only counts.
    expect(lease.backend).toMatchObject({ state: 'healthy', consecutiveFailures: 1 });
    expect(failover.shouldRetry(0, failure)).toBe(false);
  });

  it('holds a backend that answered 503 back for the busy time without counting it as failing', async () => {
    const setup = pool(1);
    const failover = failoverOn(setup);
    const lease = await failover.acquire(0);
    lease.release();
    const failure = failover.answeredError(lease.backend, answer(503, 'server busy'));
    expect(failure.kind).toBe('busy');
    expect(lease.backend).toMatchObject({ state: 'healthy', consecutiveFailures: 0 });
    expect(lease.backend.hasFreeSlot(4, setup.clock.now)).toBe(false);
    setup.clock.now += 1_000;
    expect(lease.backend.hasFreeSlot(4, setup.clock.now)).toBe(true);
  });

  it('may wait for a lone busy backend again, which it may not for a broken one', async () => {
    const setup = pool(1, { ejectAfterFailures: 3 });
    const failover = failoverOn(setup);
    const lease = await failover.acquire(0);
    lease.release();
    const busy = failover.answeredError(lease.backend, answer(503));
    expect(failover.shouldRetry(0, busy)).toBe(true);
    setup.clock.now += 1_000;
    const again = await failover.acquire(1);
    expect(again.backend).toBe(lease.backend);
    again.release();
    const broken = failover.connectFailed(again.backend, connectionRefused);
    expect(failover.shouldRetry(0, broken)).toBe(false);
  });

  it('tells a timeout from a connection failure, and says which the client gets', () => {
    const timeout = classifyError(
      Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' }),
    );
    expect(timeout.kind).toBe('timeout');
    expect(failureToApp(timeout)).toMatchObject({ code: 'upstream_timeout', status: 504 });
    const refused = classifyError(connectionRefused);
    expect(refused.kind).toBe('connect');
    expect(failureToApp(refused)).toMatchObject({ code: 'bad_gateway', status: 502 });
  });
});

describe('routing errors and outcomes as the client and the metrics see them', () => {
  it('an unknown model is 404 with the models there are, in Ollama’s wording', () => {
    const error = routingErrorToApp(
      new RoutingError('model_not_found', 'x'),
      30,
      () => ['llama3.2', 'qwen3'],
      'Llama3.2:latest',
    );
    expect(error).toMatchObject({
      code: 'model_not_found',
      message: 'model "Llama3.2:latest" not found, try pulling it first',
      extensions: { availableModels: ['llama3.2', 'qwen3'] },
    });
    expect(outcomeOf(error)).toBe('model_not_found');
  });

  it('a full queue is 503 overloaded and no backend 503 unavailable, both with Retry-After', () => {
    const overloaded = routingErrorToApp(new RoutingError('queue_full', 'all busy'), 30, () => [], 'm');
    expect(overloaded).toMatchObject({ code: 'overloaded', headers: { 'Retry-After': '30' } });
    expect(outcomeOf(overloaded)).toBe('overloaded');
    const unavailable = routingErrorToApp(new RoutingError('no_backend', 'none'), 7, () => [], 'm');
    expect(unavailable).toMatchObject({ code: 'service_unavailable', extensions: { retryAfter: 7 } });
    expect(outcomeOf(unavailable)).toBe('unavailable');
    expect(outcomeOf(new AppError('bad_request'))).toBe('client_error');
    expect(outcomeOf(new AppError('bad_gateway'))).toBe('upstream_error');
  });
});
