import { defineCounter, defineHistogram } from '@corral/service-kit';
import { Gauge, type Registry } from 'prom-client';
import type { BackendPool } from './domain/pool.js';

export type RequestOutcome =
  | 'ok'
  | 'client_error'
  | 'upstream_error'
  | 'stream_broken'
  | 'overloaded'
  | 'unavailable'
  | 'model_not_found'
  | 'cancelled';

/** The gateway's own series, on the service's registry. */
export function createGatewayMetrics(registry: Registry, pool: BackendPool, queueDepth: () => number) {
  const metrics = {
    tokens: defineCounter(
      registry,
      'gateway_tokens_total',
      'Generated tokens (eval_count of final chunks) by model and backend.',
      ['model', 'backend'],
    ),
    promptTokens: defineCounter(
      registry,
      'gateway_prompt_tokens_total',
      'Prompt tokens (prompt_eval_count of final chunks) by model and backend.',
      ['model', 'backend'],
    ),
    requests: defineCounter(registry, 'gateway_requests_total', 'Proxied requests by route and outcome.', [
      'route',
      'outcome',
    ]),
    retries: defineCounter(
      registry,
      'gateway_retries_total',
      'Requests retried on another backend after failing before their first byte.',
      ['route'],
    ),
    ejections: defineCounter(registry, 'gateway_backend_ejections_total', 'Backends taken out of rotation.', [
      'backend',
    ]),
    timeToFirstByte: defineHistogram(
      registry,
      'gateway_time_to_first_byte_seconds',
      'From request arrival to the first body byte from the backend (first token when streaming).',
      ['route'],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    ),
    queueWait: defineHistogram(
      registry,
      'gateway_queue_wait_seconds',
      'Time requests waited for a backend slot.',
      [],
      [0.001, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30],
    ),
  };
  // Gauges read the pool when scraped (defineGauge takes no collect callback), so they never drift.
  new Gauge({
    name: 'gateway_backend_inflight',
    help: 'Requests running on each backend.',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const backend of pool.list()) this.set({ backend: backend.id }, backend.inFlight);
    },
  });
  new Gauge({
    name: 'gateway_backend_healthy',
    help: '1 when a backend takes traffic, 0 when pending, ejected or draining.',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const backend of pool.list()) this.set({ backend: backend.id }, backend.routable ? 1 : 0);
    },
  });
  new Gauge({
    name: 'gateway_tokens_per_second',
    help: 'Generated tokens per second over a sliding window, by backend (HPA signal).',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const backend of pool.list()) this.set({ backend: backend.id }, backend.tokenRate.perSecond());
    },
  });
  new Gauge({
    name: 'gateway_queue_depth',
    help: 'Requests waiting for a backend slot.',
    registers: [registry],
    collect() {
      this.set(queueDepth());
    },
  });
  return metrics;
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
