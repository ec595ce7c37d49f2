import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface HttpMetrics {
  registry: Registry;
  requestDuration: Histogram<'method' | 'route' | 'status'>;
  requestsInFlight: Gauge;
}

/**
 * One registry per service instance (not prom-client's global one), so tests can run several
 * services in one process and each `/metrics` shows only its own series.
 */
export function createMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by method, route template and status, until the response ends.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    requestsInFlight: new Gauge({
      name: 'http_requests_in_flight',
      help: 'HTTP requests being served now, open streams included.',
      registers: [registry],
    }),
  };
}

/** Helpers for services' own metrics on their registry. */
export const defineCounter = <L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
) => new Counter<L>({ name, help, labelNames, registers: [registry] });

export const defineGauge = <L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
) => new Gauge<L>({ name, help, labelNames, registers: [registry] });

export const defineHistogram = <L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  buckets?: number[],
) => new Histogram<L>({ name, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) });
