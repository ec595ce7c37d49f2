import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type SpawnedService, spawnService } from './process.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function listen(handler: (req: IncomingMessage, body: string) => void): Promise<string> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      handler(req, body);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function startTraced(env: Record<string, string>): SpawnedService {
  const service = spawnService('test/fixtures/traced-service.ts', env, [
    '--import',
    './src/otel-register.ts',
  ]);
  cleanups.push(() => service.child.kill('SIGKILL'));
  return service;
}

describe('OpenTelemetry', () => {
  it('exports a server span in the caller’s trace and passes traceparent downstream', async () => {
    const exports: string[] = [];
    const downstreamParents: string[] = [];
    const collector = await listen((req, body) => {
      if (req.url === '/v1/traces') exports.push(body);
    });
    const downstream = await listen((req) => downstreamParents.push(String(req.headers.traceparent)));
    const service = startTraced({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_SERVICE_NAME: 'traced',
      DOWNSTREAM_URL: `${downstream}/ping`,
    });
    const url = await service.url;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${url}/api/hello`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(200);

    expect(downstreamParents).toHaveLength(1);
    expect(downstreamParents[0]).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    await expect.poll(() => exports.join('\n'), { timeout: 10_000 }).toContain(traceId);
    expect(exports.join('\n')).toContain('"traced"'); // service.name resource attribute
  });

  it('propagates nothing when no endpoint is configured', async () => {
    const downstreamParents: string[] = [];
    const downstream = await listen((req) => downstreamParents.push(String(req.headers.traceparent)));
    const service = startTraced({ DOWNSTREAM_URL: `${downstream}/ping` });
    const url = await service.url;
    const res = await fetch(`${url}/api/hello`, {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    expect(res.status).toBe(200);
    // The SDK was never loaded, so the downstream call carries no traceparent.
    expect(downstreamParents).toEqual(['undefined']);
  });
});
