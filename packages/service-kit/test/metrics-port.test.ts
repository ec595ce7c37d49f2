import { freePort } from '@corral/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp } from '../src/http.js';
import { type RunningServer, startServer } from '../src/server.js';
import { kitWithCapturedLogs } from './helpers.js';

const running: RunningServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.shutdown('test over');
});

async function start(env: Record<string, string>): Promise<RunningServer> {
  const { kit } = kitWithCapturedLogs({ HOST: '127.0.0.1', SHUTDOWN_GRACE_MS: '100', ...env });
  const app = createHttpApp(kit, (routes) => {
    routes.get('/hello', (_req, res) => {
      res.json({ hello: 'world' });
    });
  });
  const server = await startServer(kit, app, { port: 0, handleSignals: false });
  running.push(server);
  return server;
}

describe('METRICS_PORT', () => {
  it('serves /metrics on its own port only, so the public port (behind the Ingress) has none', async () => {
    const metricsPort = await freePort();
    const server = await start({ METRICS_PORT: String(metricsPort) });
    expect(server.metricsUrl).toBe(`http://127.0.0.1:${metricsPort}`);

    expect((await fetch(`${server.url}/hello`)).status).toBe(200);
    const hidden = await fetch(`${server.url}/metrics`);
    expect(hidden.status).toBe(404);
    expect(hidden.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    const scraped = await fetch(`${server.metricsUrl}/metrics`);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain/);
    // The public port's requests are counted, the 404 for /metrics included.
    expect(await scraped.text()).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="\/hello"[^}]*\} 1/,
    );

    const elsewhere = await fetch(`${server.metricsUrl}/hello`);
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.json()).toMatchObject({ code: 'route_not_found', status: 404 });
  });

  it('closes the metrics listener on shutdown', async () => {
    const server = await start({ METRICS_PORT: String(await freePort()) });
    await server.shutdown('test');
    running.splice(running.indexOf(server), 1);
    await expect(fetch(`${server.metricsUrl}/metrics`)).rejects.toThrow();
  });

  it('serves /metrics on the public port when unset (local mode, tests)', async () => {
    const server = await start({});
    expect(server.metricsUrl).toBeUndefined();
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
  });
});
