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

/** Model label for a name nobody holds (typos, probes): keeps the label set bounded. */
export const UNKNOWN_MODEL = 'other';

/** A model as a label value: a name some backend of the pool holds, else `other` (bounded set). */
export function boundedModel(pool: BackendPool, model: string): string {
  return pool.anyHolds(model) ? model : 'other';
}

const PREFIX = 'corral_gateway_';

/**
 * The gateway's own series, on the service's registry. The names are a contract: the chart's
 * prometheus-adapter rule, HPA, alerts and dashboard query them.
 */
export function createGatewayMetrics(registry: Registry, pool: BackendPool, queueDepth: () => number) {
  const metrics = {
    generatedTokens: defineCounter(
      registry,
      `${PREFIX}generated_tokens_total`,
      'Generated tokens (eval_count of final chunks, usage.completion_tokens on /v1) by model and backend.',
      ['model', 'backend'],
    ),
    promptTokens: defineCounter(
      registry,
      `${PREFIX}prompt_tokens_total`,
      'Prompt tokens (prompt_eval_count of final chunks, usage.prompt_tokens on /v1) by model and backend.',
      ['model', 'backend'],
    ),
    requests: defineCounter(registry, `${PREFIX}requests_total`, 'Proxied requests by route and outcome.', [
      'route',
      'outcome',
    ]),
    retries: defineCounter(
      registry,
      `${PREFIX}retries_total`,
      'Requests retried on another backend after failing before their first byte.',
      ['route'],
    ),
    ejections: defineCounter(registry, `${PREFIX}ejections_total`, 'Backends taken out of rotation.', [
      'backend',
    ]),
    timeToFirstToken: defineHistogram(
      registry,
      `${PREFIX}time_to_first_token_seconds`,
      'From request arrival to the first generated token passing through (streamed generations).',
      ['model'],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    ),
    requestDuration: defineHistogram(
      registry,
      `${PREFIX}request_duration_seconds`,
      'From request arrival to the last byte of the answer (whole streams included).',
      ['route', 'model', 'outcome'],
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    ),
    coldLoads: defineCounter(
      registry,
      `${PREFIX}cold_loads_total`,
      'Requests sent to a backend where their model was neither loaded nor loading (a model load).',
      ['model'],
    ),
    affinity: defineCounter(
      registry,
      `${PREFIX}affinity_total`,
      'Returning conversations that went back to their previous backend (hit) or elsewhere (miss).',
      ['result'],
    ),
    queueWait: defineHistogram(
      registry,
      `${PREFIX}queue_wait_seconds`,
      'Time requests waited for a backend slot.',
      [],
      [0.001, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30],
    ),
  };
  // Gauges read the pool when scraped (defineGauge takes no collect callback), so they never drift.
  new Gauge({
    name: `${PREFIX}backend_inflight`,
    help: 'Requests running on each backend.',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const backend of pool.list()) this.set({ backend: backend.id }, backend.inFlight);
    },
  });
  new Gauge({
    name: `${PREFIX}model_slots_in_use`,
    help: 'Requests running per backend and model (Ollama’s NUM_PARALLEL slots are per loaded model).',
    labelNames: ['backend', 'model'],
    registers: [registry],
    collect() {
      this.reset();
      for (const backend of pool.list()) {
        for (const [model, count] of backend.modelInFlight) {
          this.inc({ backend: backend.id, model: boundedModel(pool, model) }, count);
        }
      }
    },
  });
  new Gauge({
    name: `${PREFIX}backend_healthy`,
    help: '1 when a backend takes traffic, 0 when pending, ejected or draining.',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const backend of pool.list()) this.set({ backend: backend.id }, backend.routable ? 1 : 0);
    },
  });
  new Gauge({
    name: `${PREFIX}tokens_per_second`,
    help: 'Generated tokens per second over a sliding window, by backend (HPA signal).',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const backend of pool.list()) this.set({ backend: backend.id }, backend.tokenRate.perSecond());
    },
  });
  new Gauge({
    name: `${PREFIX}queue_depth`,
    help: 'Requests waiting for a backend slot.',
    registers: [registry],
    collect() {
      this.set(queueDepth());
    },
  });
  return metrics;
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
