import { type BackendView, backendPool } from '@corral/contracts';
import {
  type RunningServer,
  baseEnvShape,
  createLogger,
  createServiceKit,
  loadConfig,
  startServer,
} from '@corral/service-kit';
import { type OllamaSim, type OllamaSimOptions, startOllamaSim } from '@corral/ollama-sim';
import { afterEach } from 'vitest';
import { type GatewayDeps, createApp } from '../src/app.js';
import { type GatewayConfig, gatewayEnvShape } from '../src/config.js';
import { contract } from './contract.js';

export interface TestGateway {
  url: string;
  /** Authorization for the gateway's own routes (when GATEWAY_SERVICE_TOKEN is set). */
  headers: Record<string, string>;
  server: RunningServer;
  close(): Promise<void>;
}

export type { BackendView };

/** Short timers so health, ejection and return happen within a test; callers override per case. */
const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'error',
  HOST: '127.0.0.1',
  PORT: '0',
  HEALTH_INTERVAL_MS: '50',
  HEALTH_TIMEOUT_MS: '1000',
  EJECT_BASE_MS: '100',
  EJECT_MAX_MS: '1000',
  SHUTDOWN_GRACE_MS: '500',
};

/** A gateway on a random port in front of the given backends, ready (every backend healthy). */
export async function startGateway(
  backends: Array<OllamaSim | string>,
  env: Record<string, string> = {},
  deps: GatewayDeps = {},
): Promise<TestGateway> {
  const urls = backends.map((b) => (typeof b === 'string' ? b : b.url));
  const config = loadConfig(
    'inference-gateway',
    { ...baseEnvShape, ...gatewayEnvShape },
    { ...TEST_ENV, OLLAMA_URLS: urls.join(','), ...env },
  ) as GatewayConfig;
  const kit = createServiceKit({
    name: 'inference-gateway',
    config,
    logger: createLogger({ service: 'inference-gateway', level: 'error' }),
  });
  const app = await createApp(kit, deps);
  const server = await startServer(kit, contract.wrap(app), { port: 0, handleSignals: false });
  const token = config.GATEWAY_SERVICE_TOKEN;
  const gateway: TestGateway = {
    url: server.url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    server,
    close: () => server.shutdown('test over'),
  };
  if (urls.length > 0) {
    await waitUntil(
      async () => (await backendStates(gateway)).filter((b) => b.state === 'healthy').length === urls.length,
      'every backend healthy',
    );
  }
  return gateway;
}

/** Polls until `condition` holds (for hooks, where expect.poll is not available). */
export async function waitUntil(
  condition: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function backendStates(gateway: {
  url: string;
  headers?: Record<string, string>;
}): Promise<BackendView[]> {
  const res = await fetch(`${gateway.url}/admin/backends`, { headers: gateway.headers ?? {} });
  return backendPool.parse(await res.json()).backends;
}

export async function backendState(
  gateway: { url: string; headers?: Record<string, string> },
  url: string,
): Promise<string | undefined> {
  return (await backendStates(gateway)).find((b) => b.url === url)?.state;
}

/** Simulators for a test: fast by default (every token at once), silent. */
export async function startSims(count: number, options: OllamaSimOptions = {}): Promise<OllamaSim[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      startOllamaSim({ tokensPerSecond: 0, ttftMs: 0, logger: null, ...options }),
    ),
  );
}

/**
 * For files whose every test builds a pool of its own: startSims and startGateway that remember
 * what they started, all closed after each test (the gateway first).
 */
export function usePoolPerTest(): { startSims: typeof startSims; startGateway: typeof startGateway } {
  const gateways: TestGateway[] = [];
  const sims: OllamaSim[] = [];
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
    await Promise.all(sims.splice(0).map((sim) => sim.close()));
  });
  return {
    async startSims(...args) {
      const started = await startSims(...args);
      sims.push(...started);
      return started;
    },
    async startGateway(...args) {
      const gateway = await startGateway(...args);
      gateways.push(gateway);
      return gateway;
    },
  };
}

export const chatBody = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'llama3.2',
  messages: [{ role: 'user', content }],
  ...extra,
});

export function postJson(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** Reads an NDJSON response to its end, line by line. */
export async function ndjsonLines(res: Response): Promise<Array<Record<string, unknown>>> {
  const text = await res.text();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Waits for the first body chunk of a streaming response, and returns the reader to go on with. */
export async function firstChunk(res: Response): Promise<{
  text: string;
  reader: ReadableStreamDefaultReader<Uint8Array>;
}> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  return { text: new TextDecoder().decode(value), reader };
}

export async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text + decoder.decode();
    text += decoder.decode(value, { stream: true });
  }
}
